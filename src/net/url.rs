//! A deliberately small, strict URL grammar for presigned STS URLs and configured
//! endpoints, plus SigV4 query encoding.
//!
//! Owns: splitting `scheme://host[:port]/path?query` and strict query decoding.
//!
//! Invariants: nothing is normalised, so what we check is what STS would see.
//! Every byte is printable ASCII (no spaces, CR/LF, NUL or non-ASCII); the scheme
//! is exactly `https` or `http`; there is never userinfo (`@`) nor a fragment
//! (`#`); hosts are lowercase DNS-style names (IPv6 literals are refused); ports
//! are 1..=65535 in plain digits; query names and values use only unreserved
//! characters and well-formed `%XX` escapes that decode to printable ASCII.
//! A WHATWG parser is not used on purpose: it rewrites `/%2e%2e/` to `/`,
//! accepts backslashes and tabs, and would hide exactly what we must reject.

/// Most query parameters accepted before any further look: the known set has 9.
pub(crate) const MAX_QUERY_PARAMS: usize = 16;

/// Longest DNS name accepted as a host.
const MAX_HOST_LEN: usize = 253;

/// Why a URL failed the strict grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// A byte outside printable ASCII (space, control, non-ASCII).
    #[error("byte outside printable ASCII")]
    BadChar,
    /// Not `https://` or `http://`.
    #[error("scheme is not https or http")]
    BadScheme,
    /// Userinfo (`@`) in the authority.
    #[error("userinfo in authority")]
    Userinfo,
    /// A `#` fragment.
    #[error("fragment present")]
    Fragment,
    /// Empty host, IPv6 literal, or a name that is not lowercase DNS syntax.
    #[error("malformed host")]
    BadHost,
    /// Port empty, not digits, zero, or above 65535.
    #[error("malformed port")]
    BadPort,
    /// Path other than exactly `/` (or, for endpoints, empty).
    #[error("path is not /")]
    BadPath,
    /// Query structure: empty pair, missing `=`, raw reserved byte, too many pairs.
    #[error("malformed query")]
    BadQuery,
    /// `%` not followed by two hex digits, or decoding to a non-printable byte.
    #[error("malformed percent-encoding")]
    BadPercentEncoding,
}

impl UrlError {
    /// The machine-readable check name.
    pub fn reason(self) -> &'static str {
        match self {
            UrlError::BadChar => "bad_url_char",
            UrlError::BadScheme => "bad_scheme",
            UrlError::Userinfo => "url_userinfo",
            UrlError::Fragment => "url_fragment",
            UrlError::BadHost => "bad_host",
            UrlError::BadPort => "bad_port",
            UrlError::BadPath => "bad_path",
            UrlError::BadQuery => "bad_query",
            UrlError::BadPercentEncoding => "bad_percent_encoding",
        }
    }
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP: only ever for an explicitly configured endpoint (simulator).
    Http,
    /// HTTPS with verified TLS.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A URL split by the strict grammar. Borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedUrl<'a> {
    pub(crate) scheme: Scheme,
    /// Lowercase host name or dotted IPv4 text.
    pub(crate) host: &'a str,
    /// The explicit port, if any.
    pub(crate) port: Option<u16>,
    /// The path, exactly as written (`""` or `/` for anything we accept).
    pub(crate) path: &'a str,
    /// The raw query after `?`, if there was a `?`.
    pub(crate) query: Option<&'a str>,
}

impl ParsedUrl<'_> {
    /// The explicit port or the scheme's default.
    pub(crate) fn effective_port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }
}

/// Splits `s` by the strict grammar. Only the path shape `""`/`/`/other is left to
/// callers, which know whether an empty path is acceptable.
pub(crate) fn parse_url(s: &str) -> Result<ParsedUrl<'_>, UrlError> {
    if !s.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(UrlError::BadChar);
    }
    if s.contains('#') {
        return Err(UrlError::Fragment);
    }
    let (scheme, rest) = if let Some(rest) = s.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = s.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(UrlError::BadScheme);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(UrlError::Userinfo);
    }
    if authority.contains(['[', ']']) {
        return Err(UrlError::BadHost);
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(parse_port(port)?)),
        None => (authority, None),
    };
    check_host(host)?;
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    Ok(ParsedUrl {
        scheme,
        host,
        port,
        path,
        query,
    })
}

fn parse_port(port: &str) -> Result<u16, UrlError> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::BadPort);
    }
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(UrlError::BadPort),
    }
}

/// Lowercase LDH labels separated by single dots; this also refuses `[v6]`
/// literals, `%`-escapes, `_` and uppercase.
fn check_host(host: &str) -> Result<(), UrlError> {
    if host.is_empty() || host.len() > MAX_HOST_LEN {
        return Err(UrlError::BadHost);
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(UrlError::BadHost)
    }
}

/// Whether a syntactically valid host would be read as an IPv4 address by a
/// WHATWG-style resolver (last label numeric, or a `0x` form).
pub(crate) fn is_ip_literal(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or(host);
    last.bytes().all(|b| b.is_ascii_digit()) || host.split('.').any(|l| l.starts_with("0x"))
}

/// Unreserved characters of RFC 3986, the only ones SigV4 leaves unescaped.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Splits and strictly decodes a query into (name, value) pairs, in order.
/// Every pair needs exactly one raw `=`; raw bytes other than unreserved ones and
/// `%XX` are refused (so `+`, which some decoders read as a space, is refused).
pub(crate) fn parse_query(query: &str) -> Result<Vec<(String, String)>, UrlError> {
    let mut pairs = Vec::new();
    for piece in query.split('&') {
        if pairs.len() == MAX_QUERY_PARAMS {
            return Err(UrlError::BadQuery);
        }
        let (name, value) = piece.split_once('=').ok_or(UrlError::BadQuery)?;
        if name.is_empty() {
            return Err(UrlError::BadQuery);
        }
        pairs.push((percent_decode(name)?, percent_decode(value)?));
    }
    Ok(pairs)
}

fn percent_decode(s: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|&c| hex_val(c));
            let lo = bytes.get(i + 2).and_then(|&c| hex_val(c));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(UrlError::BadPercentEncoding);
            };
            let decoded = hi << 4 | lo;
            if !(0x21..=0x7e).contains(&decoded) {
                return Err(UrlError::BadPercentEncoding);
            }
            out.push(char::from(decoded));
            i += 3;
        } else if is_unreserved(b) {
            out.push(char::from(b));
            i += 1;
        } else {
            return Err(UrlError::BadQuery);
        }
    }
    Ok(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// SigV4 URI encoding: every byte except unreserved ones as `%XX` (uppercase hex).
pub(crate) fn sigv4_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    sigv4_encode_into(&mut out, s);
    out
}

/// Appends `s`, [`sigv4_encode`]d, to `out`.
fn sigv4_encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// Joins pairs into a query string with [`sigv4_encode`], into one buffer
/// (no string per name, value or pair).
pub(crate) fn encode_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        // Room for the pair unencoded; escapes grow it (amortised).
        out.reserve(k.len() + v.len() + 2);
        if !out.is_empty() {
            out.push('&');
        }
        sigv4_encode_into(&mut out, k);
        out.push('=');
        sigv4_encode_into(&mut out, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_a_plain_presigned_shape() {
        let u = parse_url("https://sts.us-east-1.amazonaws.com/?Action=X&a=b").unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(u.host, "sts.us-east-1.amazonaws.com");
        assert_eq!(u.port, None);
        assert_eq!(u.path, "/");
        assert_eq!(u.query, Some("Action=X&a=b"));
        let u = parse_url("http://127.0.0.1:4599").unwrap();
        assert_eq!(
            (u.host, u.port, u.path, u.query),
            ("127.0.0.1", Some(4599), "", None)
        );
    }

    #[test]
    fn rejects_each_bad_shape() {
        let cases: &[(&str, UrlError)] = &[
            ("https://sts.amazonaws.com/ ?a=b", UrlError::BadChar),
            ("https://sts.amazonaws.com/\r\n?a=b", UrlError::BadChar),
            ("https://stś.amazonaws.com/?a=b", UrlError::BadChar),
            ("https://sts.amazonaws.com/?a=b#frag", UrlError::Fragment),
            ("ftp://sts.amazonaws.com/?a=b", UrlError::BadScheme),
            ("HTTPS://sts.amazonaws.com/?a=b", UrlError::BadScheme),
            ("https:/sts.amazonaws.com/?a=b", UrlError::BadScheme),
            ("https://user@sts.amazonaws.com/?a=b", UrlError::Userinfo),
            ("https://evil.com@sts.amazonaws.com/", UrlError::Userinfo),
            ("https:///?a=b", UrlError::BadHost),
            ("https://STS.amazonaws.com/?a=b", UrlError::BadHost),
            ("https://[::1]/?a=b", UrlError::BadHost),
            ("https://sts..amazonaws.com/?a=b", UrlError::BadHost),
            ("https://sts.amazonaws.com./?a=b", UrlError::BadHost),
            ("https://sts_x.amazonaws.com/?a=b", UrlError::BadHost),
            ("https://sts.amazonaws.com%2F/?a=b", UrlError::BadHost),
            ("https://sts.amazonaws.com:/?a=b", UrlError::BadPort),
            ("https://sts.amazonaws.com:0/?a=b", UrlError::BadPort),
            ("https://sts.amazonaws.com:65536/?a=b", UrlError::BadPort),
            ("https://sts.amazonaws.com:+443/?a=b", UrlError::BadPort),
            ("https://sts.amazonaws.com:1:2/?a=b", UrlError::BadPort),
        ];
        for (url, want) in cases {
            assert_eq!(parse_url(url).unwrap_err(), *want, "{url}");
        }
    }

    #[test]
    fn keeps_dot_segments_visible() {
        let u = parse_url("https://sts.amazonaws.com/%2e%2e/?a=b").unwrap();
        assert_eq!(u.path, "/%2e%2e/");
        let u = parse_url("https://sts.amazonaws.com/..?a=b").unwrap();
        assert_eq!(u.path, "/..");
    }

    #[test]
    fn recognises_ip_literals() {
        assert!(is_ip_literal("127.0.0.1"));
        assert!(is_ip_literal("2130706433"));
        assert!(is_ip_literal("0x7f.1"));
        assert!(!is_ip_literal("sts.amazonaws.com"));
    }

    #[test]
    fn decodes_queries_strictly() {
        let q = parse_query("A=b&X-Amz-Credential=AKID%2F20240101%2fus-east-1").unwrap();
        assert_eq!(q[1].1, "AKID/20240101/us-east-1");
        let bad: &[(&str, UrlError)] = &[
            ("", UrlError::BadQuery),
            ("a=b&", UrlError::BadQuery),
            ("a=b&&c=d", UrlError::BadQuery),
            ("a", UrlError::BadQuery),
            ("=b", UrlError::BadQuery),
            ("a=b=c", UrlError::BadQuery),
            ("a=b+c", UrlError::BadQuery),
            ("a=b/c", UrlError::BadQuery),
            ("a=%zz", UrlError::BadPercentEncoding),
            ("a=%4", UrlError::BadPercentEncoding),
            ("a=%", UrlError::BadPercentEncoding),
            ("a=%20", UrlError::BadPercentEncoding),
            ("a=%0A", UrlError::BadPercentEncoding),
            ("a=%C3%A9", UrlError::BadPercentEncoding),
        ];
        for (q, want) in bad {
            assert_eq!(parse_query(q).unwrap_err(), *want, "{q}");
        }
        let many = vec!["a=b"; MAX_QUERY_PARAMS + 1].join("&");
        assert_eq!(parse_query(&many).unwrap_err(), UrlError::BadQuery);
    }

    #[test]
    fn sigv4_encoding_matches_aws_rules() {
        assert_eq!(sigv4_encode("a/b+c=d~e_f-g.h"), "a%2Fb%2Bc%3Dd~e_f-g.h");
        assert_eq!(
            encode_query([("X-Amz-Date", "1"), ("k", "a b")]),
            "X-Amz-Date=1&k=a%20b"
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".{0,300}") {
            let _ = parse_url(&s);
            let _ = parse_query(&s);
        }

        #[test]
        fn encode_query_is_the_encoded_pairs_joined(
            pairs in proptest::collection::vec((".{0,12}", ".{0,12}"), 0..6)
        ) {
            let joined = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", sigv4_encode(k), sigv4_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let q = encode_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            prop_assert_eq!(q, joined);
        }

        #[test]
        fn encode_then_decode_round_trips(v in "[!-~]{0,64}") {
            let q = encode_query([("k", v.as_str())]);
            let decoded = parse_query(&q).unwrap();
            prop_assert_eq!(&decoded[0].1, &v);
        }
    }
}

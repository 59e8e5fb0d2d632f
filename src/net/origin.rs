//! Origins (DESIGN §2): `scheme://host[:port]`, the audience a `tvm-v1` token is
//! signed for.
//!
//! Owns: [`Origin`], parsed once from configuration (`auth.audience`) or from the
//! client's `--url`, and the comparison of an origin with a request's `Host`.
//!
//! Invariants: an [`Origin`] is always in its one normal form — scheme `http` or
//! `https`, host lowercase, the scheme's default port omitted, no userinfo, path,
//! query or fragment — so two spellings of one origin compare equal as strings,
//! and the client and the server derive the same bytes for the signed
//! `x-tvm-audience` header. Parsing refuses rather than guesses: a path (tvm is
//! served at the root of each origin), a query, userinfo or a fragment is an
//! error, never silently dropped.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use super::url::Scheme;

/// Longest origin accepted (it travels in a signed header).
pub const MAX_ORIGIN_LEN: usize = 256;

/// Why a string is not an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not `http://` or `https://` (or no scheme at all).
    #[error("must start with https:// (or http:// for a loopback host)")]
    Scheme,
    /// Longer than [`MAX_ORIGIN_LEN`], or a byte outside printable ASCII.
    #[error("must be at most 256 printable ASCII characters")]
    Chars,
    /// `user@` in the authority.
    #[error("must not contain a user name (`@`)")]
    Userinfo,
    /// A path other than a single `/`.
    #[error("must not have a path: tvm is served at the root of its origin")]
    Path,
    /// A `?query`.
    #[error("must not have a query")]
    Query,
    /// A `#fragment`.
    #[error("must not have a fragment")]
    Fragment,
    /// Empty or malformed host.
    #[error("has a malformed host")]
    Host,
    /// Port empty, not digits, zero or above 65535.
    #[error("has a malformed port")]
    Port,
}

/// A normalised origin, `scheme://host[:port]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The normal form, e.g. `https://tvm.example.com` or `http://127.0.0.1:8080`.
    text: String,
    scheme: Scheme,
    /// Lowercase host; IPv6 literals keep their brackets.
    host: String,
    /// The effective port (the scheme default when none was written).
    port: u16,
}

impl Origin {
    /// Parses and normalises `s`: case of scheme and host, an explicit default
    /// port, and one trailing `/` are normalised away; anything else that is not
    /// `scheme://host[:port]` is refused.
    pub fn parse(s: &str) -> Result<Self, OriginError> {
        if s.len() > MAX_ORIGIN_LEN || !s.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(OriginError::Chars);
        }
        let (scheme, rest) = s.split_once("://").ok_or(OriginError::Scheme)?;
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else {
            return Err(OriginError::Scheme);
        };
        if rest.contains('#') {
            return Err(OriginError::Fragment);
        }
        if rest.contains('?') {
            return Err(OriginError::Query);
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if !matches!(path, "" | "/") {
            return Err(OriginError::Path);
        }
        if authority.contains('@') {
            return Err(OriginError::Userinfo);
        }
        let (host, port) = split_authority(authority)?;
        let port = port.unwrap_or(scheme.default_port());
        let text = if port == scheme.default_port() {
            format!("{}://{host}", scheme.as_str())
        } else {
            format!("{}://{host}:{port}", scheme.as_str())
        };
        Ok(Self {
            text,
            scheme,
            host,
            port,
        })
    }

    /// The normal form, as signed in `x-tvm-audience`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The lowercase host (IPv6 literals in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The effective port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the host is a loopback name or address (`localhost`,
    /// `127.0.0.0/8`, `::1`): the only hosts plain `http` is allowed for.
    pub fn is_loopback(&self) -> bool {
        if self.host == "localhost" {
            return true;
        }
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether a request's `Host` (or trusted `X-Forwarded-Host`) value names this
    /// origin: the same host, compared case-insensitively, and the same port, a
    /// missing port meaning the scheme's default.
    pub fn matches_host(&self, host_header: &[u8]) -> bool {
        let Ok(value) = std::str::from_utf8(host_header) else {
            return false;
        };
        match split_authority(value.trim()) {
            Ok((host, port)) => {
                host == self.host && port.unwrap_or(self.scheme.default_port()) == self.port
            }
            Err(_) => false,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({})", self.text)
    }
}

/// Splits `host[:port]` (IPv6 as `[addr]`), lowercasing the host.
fn split_authority(authority: &str) -> Result<(String, Option<u16>), OriginError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or(OriginError::Host)?;
        addr.parse::<Ipv6Addr>().map_err(|_| OriginError::Host)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(OriginError::Port)?),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        check_reg_name(host)?;
        (host.to_ascii_lowercase(), port)
    };
    let port = port.map(parse_port).transpose()?;
    Ok((host, port))
}

/// DNS-style labels (letters, digits, `-`) separated by single dots, or an IPv4
/// literal; no trailing dot (it would be a second spelling of the same name).
fn check_reg_name(host: &str) -> Result<(), OriginError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !host.is_empty() && host.len() <= 253 && host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(OriginError::Host)
    }
}

fn parse_port(port: &str) -> Result<u16, OriginError> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OriginError::Port);
    }
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(OriginError::Port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        for (input, normal) in [
            ("https://tvm.example.com", "https://tvm.example.com"),
            ("https://tvm.example.com/", "https://tvm.example.com"),
            ("HTTPS://TVM.Example.COM", "https://tvm.example.com"),
            ("https://tvm.example.com:443", "https://tvm.example.com"),
            (
                "https://tvm.example.com:8443",
                "https://tvm.example.com:8443",
            ),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("http://[::1]:80", "http://[::1]"),
            ("http://localhost:443", "http://localhost:443"),
        ] {
            assert_eq!(Origin::parse(input).unwrap().as_str(), normal, "{input}");
        }
    }

    #[test]
    fn refusals() {
        for (input, err) in [
            ("tvm-prod", OriginError::Scheme),
            ("ftp://tvm.example.com", OriginError::Scheme),
            ("//tvm.example.com", OriginError::Scheme),
            ("https://tvm.example.com/vend", OriginError::Path),
            ("https://tvm.example.com//", OriginError::Path),
            ("https://tvm.example.com/tvm/", OriginError::Path),
            ("https://tvm.example.com?x=1", OriginError::Query),
            ("https://tvm.example.com/#x", OriginError::Fragment),
            ("https://alice@tvm.example.com", OriginError::Userinfo),
            ("https://alice:pw@tvm.example.com", OriginError::Userinfo),
            ("https://", OriginError::Host),
            ("https://tvm.example.com.", OriginError::Host),
            ("https://tvm_x.example.com", OriginError::Host),
            ("https://tvm..example.com", OriginError::Host),
            ("https://[::1", OriginError::Host),
            ("https://[zz::1]", OriginError::Host),
            ("https://tvm.example.com:", OriginError::Port),
            ("https://tvm.example.com:0", OriginError::Port),
            ("https://tvm.example.com:65536", OriginError::Port),
            ("https://tvm.example.com:+443", OriginError::Port),
            ("https://[::1]x", OriginError::Port),
            ("https://tvm.example.com :443", OriginError::Chars),
            ("https://tvm.example.com\r\n", OriginError::Chars),
        ] {
            assert_eq!(Origin::parse(input), Err(err), "{input}");
        }
        assert_eq!(
            Origin::parse(&format!("https://{}.com", "a".repeat(300))),
            Err(OriginError::Chars)
        );
    }

    #[test]
    fn loopback() {
        for o in [
            "http://127.0.0.1:1",
            "http://127.9.9.9",
            "http://[::1]",
            "http://localhost",
        ] {
            assert!(Origin::parse(o).unwrap().is_loopback(), "{o}");
        }
        for o in [
            "http://10.0.0.1",
            "https://tvm.example.com",
            "http://localhost.evil.io",
        ] {
            assert!(!Origin::parse(o).unwrap().is_loopback(), "{o}");
        }
    }

    #[test]
    fn host_matching() {
        let https = Origin::parse("https://tvm.example.com").unwrap();
        for h in [
            "tvm.example.com",
            "TVM.example.com",
            "tvm.example.com:443",
            " tvm.example.com ",
        ] {
            assert!(https.matches_host(h.as_bytes()), "{h}");
        }
        for h in [
            "tvm.example.com:8443",
            "tvm.example.com:80",
            "evil.io",
            "",
            "tvm.example.com.",
            "a@tvm.example.com",
        ] {
            assert!(!https.matches_host(h.as_bytes()), "{h}");
        }
        let local = Origin::parse("http://127.0.0.1:8080").unwrap();
        assert!(local.matches_host(b"127.0.0.1:8080"));
        assert!(!local.matches_host(b"127.0.0.1"));
        assert!(!local.matches_host(b"127.0.0.1:80"));
        let v6 = Origin::parse("http://[::1]:8080").unwrap();
        assert!(v6.matches_host(b"[::1]:8080"));
        assert!(!v6.matches_host(&[0xff, 0xfe]));
    }
}

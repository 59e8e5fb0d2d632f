//! The `token` target's oracle (its mutator is in [`crate::mutate`]).
//!
//! The input is the raw `Authorization` header value. [`check`] runs
//! [`tvm::auth::fuzz_check_token`] (DESIGN §2 steps 1–5, then the pure rebuild)
//! against every verifier configuration in [`cases`] and asserts:
//!
//! - no panic, and a refusal is always a caller fault (`InvalidToken` or
//!   `Expired`), never an upstream or "unavailable" kind;
//! - a token names one destination, so at most one configuration accepts it;
//! - unsetting `eks_cluster_id` changes nothing but the verdict on
//!   `k8s-aws-v1.` tokens, which becomes `EksTokensDisabled`;
//! - on acceptance, re-derived here from the input: `Bearer ` + known prefix +
//!   lowercase-hex nonce; canonical unpadded base64url (one URL, one token);
//!   a URL of printable ASCII, no userinfo, fragment or IPv6, path exactly `/`;
//!   scheme/host/port equal to the endpoint, or `https`, no port, and a host of
//!   the allowlist shape for the partition and the credential-scope region; the
//!   request tvm would send goes to that destination with exactly the expected
//!   headers (`Host`, the configured origin, SHA-256 of the body, the token's
//!   nonce, the request's target — or `x-k8s-aws-id` with the cluster id) and a query that holds exactly the token's
//!   parameters, each name once, sorted, no unknown or case-variant name,
//!   canonically SigV4-encoded; fixed values (Action, Version, Algorithm,
//!   SignedHeaders) exact; credential scope well-formed and dated like
//!   `X-Amz-Date`; the date within the skew of now and not expired; expiry in
//!   1..=900; a 64-hex signature; no empty session token.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jiff::Timestamp;
use tvm::auth::{
    fuzz_check_token, Endpoint, Origin, RequestContext, VerificationTarget, VerifierSettings,
    VerifyError, VerifyErrorKind, DEFAULT_MAX_CLOCK_SKEW, MAX_EXPIRES_SECS, MAX_TOKEN_LEN,
};
use tvm::identity::Partition;

use crate::reference::{
    expected_aws_host, is_lower_hex, is_unreserved, parse_amz_date, sigv4, split_query,
};

/// The fixed "now" of every check; the seeds are minted at this instant.
pub const NOW: &str = "2024-05-01T12:00:00Z";
/// The origin of every configuration.
pub const AUDIENCE: &str = "https://tvm-fuzz.example.com";
/// The EKS cluster id of the configurations that accept EKS tokens.
pub const CLUSTER: &str = "tvm-fuzz-cluster";
/// The request every input is checked as (`x-tvm-target`).
pub const TARGET: &str = "POST /vend";

/// The request context of every check: `POST /vend` with an empty body.
pub fn context() -> RequestContext<'static> {
    RequestContext::new("POST", "/vend", b"")
}
/// A simulator-style endpoint: plain HTTP, IPv4 literal, explicit port.
pub const SIM_ENDPOINT: &str = "http://127.0.0.1:4599";
/// A VPC-endpoint-style endpoint: HTTPS, DNS name, default port.
pub const VPCE_ENDPOINT: &str = "https://vpce-0a1b2c3d.sts.us-east-1.vpce.amazonaws.com";

pub(crate) const BEARER: &[u8] = b"Bearer ";
pub(crate) const TVM_PREFIX: &[u8] = b"tvm-v1.";
pub(crate) const EKS_PREFIX: &[u8] = b"k8s-aws-v1.";
pub(crate) const NONCE_LEN: usize = 32;
/// Lowercase hex SHA-256 of the empty body `fuzz_check_token` rebuilds with.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const REQUIRED: [&str; 8] = [
    "Action",
    "Version",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
];
const OPTIONAL: &str = "X-Amz-Security-Token";

/// One verifier configuration an input is checked against.
pub struct Case {
    /// Short name, used in assertion messages and by the seed generator.
    pub name: &'static str,
    /// The settings.
    pub settings: VerifierSettings,
}

/// Name of the configuration that equals `sim` with EKS tokens off.
pub const SIM_NO_EKS: &str = "sim-no-eks";

/// The configurations: both endpoint shapes, each partition's allowlist, and
/// the simulator endpoint once more with EKS tokens off. Index 0 and 1 are
/// `sim` and `sim-no-eks`.
pub fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let endpoint = |url| VerificationTarget::Endpoint {
            endpoint: Endpoint::parse(url).expect("endpoint"),
            partition: Partition::Aws,
        };
        let aws = |partition, region: &str| VerificationTarget::Aws {
            partition,
            region: region.to_owned(),
        };
        let cases = [
            ("sim", endpoint(SIM_ENDPOINT), true),
            (SIM_NO_EKS, endpoint(SIM_ENDPOINT), false),
            ("vpce", endpoint(VPCE_ENDPOINT), true),
            ("aws", aws(Partition::Aws, "us-east-1"), true),
            ("aws-cn", aws(Partition::AwsCn, "cn-north-1"), true),
            (
                "aws-us-gov",
                aws(Partition::AwsUsGov, "us-gov-west-1"),
                true,
            ),
        ];
        cases
            .into_iter()
            .map(|(name, target, eks)| {
                let settings = VerifierSettings {
                    audiences: vec![Origin::parse(AUDIENCE).expect("origin")],
                    target,
                    max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
                    eks_cluster_id: eks.then(|| CLUSTER.to_owned()),
                };
                settings.validate().expect("fuzz settings are valid");
                Case { name, settings }
            })
            .collect()
    })
}

/// [`NOW`] as a timestamp.
pub fn now() -> Timestamp {
    static NOW_TS: OnceLock<Timestamp> = OnceLock::new();
    *NOW_TS.get_or_init(|| NOW.parse().expect("NOW"))
}

/// The names of the configurations that accept `header`.
pub fn accepted_by(header: &[u8]) -> Vec<&'static str> {
    cases()
        .iter()
        .filter(|c| fuzz_check_token(header, &c.settings, &context(), now()).is_ok())
        .map(|c| c.name)
        .collect()
}

/// Runs the `token` checks on one `Authorization` header value.
pub fn check(data: &[u8]) {
    let now = now();
    let results: Vec<_> = cases()
        .iter()
        .map(|c| fuzz_check_token(data, &c.settings, &context(), now))
        .collect();
    let mut accepted = Vec::new();
    for (case, result) in cases().iter().zip(&results) {
        match result {
            Ok(request) => {
                check_accepted(data, case, request, now);
                accepted.push(case.name);
            }
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    VerifyErrorKind::InvalidToken | VerifyErrorKind::Expired
                ),
                "pure checks refused with a non-caller fault: {e:?}"
            ),
        }
    }
    let destinations = accepted.iter().filter(|n| **n != SIM_NO_EKS).count();
    assert!(
        destinations <= 1,
        "accepted by several targets: {accepted:?}"
    );
    check_eks_switch(data, &results[0], &results[1]);
}

type Described = (String, String, Vec<(String, Vec<u8>)>);

fn describe(request: &http::Request<()>) -> Described {
    let mut headers: Vec<_> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    headers.sort();
    (
        request.method().to_string(),
        request.uri().to_string(),
        headers,
    )
}

/// The token after a case-insensitive `Bearer `, as RFC 7235 reads it.
pub(crate) fn bearer(header: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = header.split_at_checked(BEARER.len())?;
    scheme.eq_ignore_ascii_case(BEARER).then_some(token)
}

fn check_eks_switch(
    data: &[u8],
    on: &Result<http::Request<()>, VerifyError>,
    off: &Result<http::Request<()>, VerifyError>,
) {
    let is_eks = bearer(data).is_some_and(|t| t.starts_with(EKS_PREFIX));
    match (on, off) {
        (Ok(a), Ok(b)) => {
            assert!(!is_eks, "EKS token accepted with EKS tokens off");
            assert_eq!(describe(a), describe(b));
        }
        (_, Err(VerifyError::EksTokensDisabled)) => assert!(is_eks),
        (Err(a), Err(b)) => assert_eq!(a, b, "EKS switch changed a refusal"),
        (on, off) => panic!("EKS switch: on ok={} off ok={}", on.is_ok(), off.is_ok()),
    }
}

fn check_accepted(data: &[u8], case: &Case, request: &http::Request<()>, now: Timestamp) {
    let name = case.name;
    // Step 1: header, prefix, nonce, base64url, UTF-8.
    let token = bearer(data).expect("accepted without `Bearer `");
    assert!(token.len() <= MAX_TOKEN_LEN);
    let (nonce, payload) = if let Some(rest) = token.strip_prefix(TVM_PREFIX) {
        let (nonce, rest) = rest.split_at_checked(NONCE_LEN).expect("short nonce");
        assert!(is_lower_hex(nonce, NONCE_LEN), "{name}: bad nonce accepted");
        let payload = rest.strip_prefix(b".").expect("no `.` after the nonce");
        (Some(std::str::from_utf8(nonce).expect("hex")), payload)
    } else {
        let payload = token.strip_prefix(EKS_PREFIX).expect("unknown prefix");
        assert!(
            case.settings.eks_cluster_id.is_some(),
            "{name}: EKS token accepted"
        );
        (None, payload)
    };
    let decoded = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("accepted bad base64url");
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&decoded).as_bytes(),
        payload,
        "{name}: non-canonical base64url accepted"
    );
    let url = String::from_utf8(decoded).expect("accepted a non-UTF-8 URL");
    assert!(
        url.bytes()
            .all(|b| is_unreserved(b) || b":/?&=%".contains(&b)),
        "{name}: URL with a byte outside the grammar: {url:?}"
    );

    // Step 2: destination.
    let (scheme, rest) = url.split_once("://").expect("no scheme");
    let (authority, rest) = rest.split_once('/').expect("no path");
    let query = rest.strip_prefix('?').expect("path is not exactly /");
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => {
            assert!(!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            (h, Some(p.parse::<u16>().expect("port out of range")))
        }
        None => (authority, None),
    };
    assert!(!host.is_empty() && !host.bytes().any(|b| b.is_ascii_uppercase()));
    let sent_host = request.headers().get(http::header::HOST).expect("no Host");
    let sent_uri = request.uri().to_string();
    let want_base = match &case.settings.target {
        VerificationTarget::Endpoint { endpoint: ep, .. } => {
            assert_eq!(scheme, ep.scheme().as_str(), "{name}: scheme");
            assert_eq!(host, ep.host(), "{name}: host");
            assert_eq!(port.unwrap_or(ep.scheme().default_port()), ep.port());
            assert_eq!(sent_host.as_bytes(), ep.host_header().as_bytes());
            ep.base_url()
        }
        VerificationTarget::Aws { .. } => {
            assert_eq!((scheme, port), ("https", None), "{name}: scheme or port");
            assert_eq!(sent_host.as_bytes(), host.as_bytes());
            format!("https://{host}")
        }
    };
    let sent_query = sent_uri
        .strip_prefix(&format!("{want_base}/?"))
        .unwrap_or_else(|| panic!("{name}: request goes elsewhere"));
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(request.uri().path(), "/");

    // Step 3: the parameters sent are exactly the token's, each once, sorted.
    let mut params = split_query(query);
    params.sort();
    let sent = split_query(sent_query);
    assert_eq!(
        params, sent,
        "{name}: sent parameters differ from the token's"
    );
    assert!(
        sent.windows(2).all(|w| w[0].0 < w[1].0),
        "duplicate or unsorted"
    );
    let encoded: Vec<String> = sent
        .iter()
        .map(|(n, v)| format!("{}={}", sigv4(n), sigv4(v)))
        .collect();
    assert_eq!(
        sent_query,
        encoded.join("&"),
        "not canonical SigV4 encoding"
    );
    let mut lower: Vec<String> = sent.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    lower.dedup();
    assert_eq!(
        lower.len(),
        sent.len(),
        "{name}: case-variant names accepted"
    );
    let get = |n: &str| sent.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    for (n, _) in &sent {
        assert!(
            REQUIRED.contains(&n.as_str()) || n == OPTIONAL,
            "unknown {n:?}"
        );
    }
    let value = |n: &str| get(n).unwrap_or_else(|| panic!("{name}: {n} missing"));
    assert_eq!(value("Action"), "GetCallerIdentity");
    assert_eq!(value("Version"), "2011-06-15");
    assert_eq!(value("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert_ne!(get(OPTIONAL), Some(""), "empty session token accepted");

    // Step 4: credential scope and signed headers.
    let scope: Vec<&str> = value("X-Amz-Credential").split('/').collect();
    let [akid, date, region, "sts", "aws4_request"] = scope[..] else {
        panic!("{name}: bad credential scope accepted");
    };
    assert!((16..=128).contains(&akid.len()));
    assert!(akid
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    let amz_date = value("X-Amz-Date");
    assert_eq!(Some(date), amz_date.get(..8), "{name}: scope date");
    if let VerificationTarget::Aws { partition, .. } = &case.settings.target {
        assert!(
            expected_aws_host(*partition, host, region),
            "{name}: host {host:?} accepted for region {region:?}"
        );
    }
    let signed = if nonce.is_some() {
        "host;x-tvm-audience;x-tvm-body-sha256;x-tvm-nonce;x-tvm-target"
    } else {
        "host;x-k8s-aws-id"
    };
    assert_eq!(value("X-Amz-SignedHeaders"), signed);

    // Step 5: formats and the time window.
    let expires = value("X-Amz-Expires");
    assert!(!expires.starts_with('0') && expires.bytes().all(|b| b.is_ascii_digit()));
    let expires: i64 = expires.parse().expect("expires");
    assert!((1..=MAX_EXPIRES_SECS).contains(&expires));
    assert!(is_lower_hex(value("X-Amz-Signature").as_bytes(), 64));
    let signed_at = parse_amz_date(amz_date);
    let skew = case.settings.max_clock_skew.as_secs();
    let ahead = signed_at.as_second() - now.as_second();
    assert!(
        (-skew..=skew).contains(&ahead),
        "{name}: date outside the skew"
    );
    assert!(-ahead <= expires, "{name}: expired token accepted");

    // The rebuilt headers: tvm's own values, nothing from the token but the nonce.
    let mut want = vec![("host".to_owned(), sent_host.as_bytes().to_vec())];
    match nonce {
        Some(nonce) => {
            want.push(("x-tvm-audience".into(), AUDIENCE.into()));
            want.push(("x-tvm-body-sha256".into(), EMPTY_SHA256.into()));
            want.push(("x-tvm-nonce".into(), nonce.into()));
            want.push(("x-tvm-target".into(), TARGET.into()));
        }
        None => want.push(("x-k8s-aws-id".into(), CLUSTER.into())),
    }
    assert_eq!(describe(request).2, want, "{name}: rebuilt headers");
}

#[cfg(test)]
mod tests {
    /// Every committed seed passes the oracle, and each is accepted by at
    /// least one configuration (so a protocol change that breaks the seeds or
    /// the oracle shows up without running the fuzzer).
    #[test]
    fn seeds_pass_the_oracle() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/token");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("seeds") {
            let data = std::fs::read(entry.expect("entry").path()).expect("seed");
            super::check(&data);
            assert!(
                !super::accepted_by(&data).is_empty(),
                "a seed nobody accepts"
            );
            n += 1;
        }
        assert!(n >= 10, "{n} seeds");
    }
}

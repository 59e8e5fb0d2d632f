//! Unit tests of the SigV4 verifier against requests signed by `aws-sigv4`.

use std::time::SystemTime;

use http::HeaderValue;
use jiff::Timestamp;

use super::*;
use crate::sts::sim::testkit::{Signed, Spec};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjE+/=token";
const GCI: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const BODY: &str = "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FR&RoleSessionName=s&Version=2011-06-15";

fn now() -> Timestamp {
    Timestamp::try_from(SystemTime::now()).unwrap()
}

/// Parses, checks the time and verifies, as the server does.
fn check(req: &Signed, secret: &str) -> Result<Claim, StsFault> {
    req.with_received(|r| {
        let claim = parse(r)?.expect("auth material");
        check_time(&claim, now())?;
        verify(r, &claim, secret)?;
        Ok(claim)
    })
}

fn tvm_spec<'a>() -> Spec<'a> {
    let mut spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    spec.headers = vec![
        ("x-tvm-audience", "tvm.example.com"),
        (
            "x-tvm-body-sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        ("x-tvm-nonce", "0123456789abcdef0123456789abcdef"),
    ];
    spec
}

#[test]
fn presigned_url_with_tvm_headers_verifies() {
    let req = tvm_spec().presign(GCI, 60);
    let claim = check(&req, SECRET).unwrap();
    assert_eq!(claim.access_key_id, AKID);
    assert_eq!(claim.region, "us-east-1");
    assert_eq!(claim.location, Location::Query { expires: 60 });
    assert_eq!(
        claim.signed_headers,
        ["host", "x-tvm-audience", "x-tvm-body-sha256", "x-tvm-nonce"]
    );
}

#[test]
fn presigned_url_with_session_token_verifies() {
    let mut spec = tvm_spec();
    spec.token = Some(TOKEN);
    let req = spec.presign(GCI, 900);
    let claim = check(&req, SECRET).unwrap();
    assert_eq!(claim.session_token.as_deref(), Some(TOKEN));
}

#[test]
fn eks_style_presigned_url_verifies() {
    let mut spec = Spec::new(AKID, SECRET, "sts.us-west-2.amazonaws.com");
    spec.region = "us-west-2";
    spec.headers = vec![("x-k8s-aws-id", "my-cluster")];
    let req = spec.presign(GCI, 60);
    assert_eq!(
        check(&req, SECRET).unwrap().signed_headers,
        ["host", "x-k8s-aws-id"]
    );
}

#[test]
fn header_signed_post_verifies_with_and_without_token() {
    let spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    let claim = check(&spec.post(BODY), SECRET).unwrap();
    assert_eq!(claim.location, Location::Header);
    let mut spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    spec.token = Some(TOKEN);
    let claim = check(&spec.post(BODY), SECRET).unwrap();
    assert_eq!(claim.session_token.as_deref(), Some(TOKEN));
    assert!(claim
        .signed_headers
        .contains(&"x-amz-security-token".to_owned()));
}

#[test]
fn wrong_secret_is_rejected() {
    let code = |r: &Signed| check(r, "not-the-secret").unwrap_err().code;
    assert_eq!(code(&tvm_spec().presign(GCI, 60)), "SignatureDoesNotMatch");
    let spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    assert_eq!(code(&spec.post(BODY)), "SignatureDoesNotMatch");
}

#[test]
fn tampered_query_value_is_rejected() {
    let mut req = tvm_spec().presign(GCI, 60);
    req.set_query_param("Action", "AssumeRole");
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );

    let mut spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    spec.token = Some(TOKEN);
    let mut req = spec.presign(GCI, 60);
    req.set_query_param("X-Amz-Security-Token", "other");
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );

    let mut req = tvm_spec().presign(GCI, 60);
    req.set_query_param("X-Amz-Expires", "61");
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );
}

#[test]
fn tampered_or_missing_signed_header_is_rejected() {
    let original = tvm_spec().presign(GCI, 60);
    let mut req = original.clone();
    req.headers.insert(
        "x-tvm-audience",
        HeaderValue::from_static("evil.example.com"),
    );
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );
    let mut req = original.clone();
    req.headers.remove("x-tvm-nonce");
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );
    let mut req = original.clone();
    req.headers
        .insert("host", HeaderValue::from_static("127.0.0.1:9999"));
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );
    // An unsigned extra header does not matter.
    let mut req = original;
    req.headers
        .insert("x-unsigned", HeaderValue::from_static("x"));
    assert!(check(&req, SECRET).is_ok());
}

#[test]
fn tampered_body_or_header_signed_fields_are_rejected() {
    let spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    let mut req = spec.post(BODY);
    req.body = BODY
        .replace("RoleSessionName=s", "RoleSessionName=t")
        .into_bytes();
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );

    let mut spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    spec.token = Some(TOKEN);
    let mut req = spec.post(BODY);
    req.headers
        .insert("x-amz-security-token", HeaderValue::from_static("forged"));
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );
    let mut req = spec.post(BODY);
    req.headers
        .insert("content-type", HeaderValue::from_static("text/plain"));
    assert_eq!(
        check(&req, SECRET).unwrap_err().code,
        "SignatureDoesNotMatch"
    );
}

#[test]
fn wrong_service_and_scope_are_rejected() {
    let mut spec = tvm_spec();
    spec.service = "iam";
    let err = check(&spec.presign(GCI, 60), SECRET).unwrap_err();
    assert_eq!(err.code, "SignatureDoesNotMatch");
    assert!(err.message.contains("service"));
}

#[test]
fn presigned_expiry_window_is_enforced() {
    let mut spec = tvm_spec();
    spec.time = SystemTime::now() - std::time::Duration::from_secs(120);
    let err = check(&spec.presign(GCI, 60), SECRET).unwrap_err();
    assert_eq!(
        (err.status.as_u16(), err.code.as_ref()),
        (403, "AccessDenied")
    );
    assert!(check(&spec.presign(GCI, 900), SECRET).is_ok());

    spec.time = SystemTime::now() + std::time::Duration::from_secs(20 * 60);
    let err = check(&spec.presign(GCI, 60), SECRET).unwrap_err();
    assert_eq!(err.code, "SignatureDoesNotMatch");

    for bad in ["0", "604801", "-1", "1.5", "", "99999999"] {
        let mut req = tvm_spec().presign(GCI, 60);
        req.set_query_param("X-Amz-Expires", bad);
        let err = check(&req, SECRET).unwrap_err();
        assert_eq!(err.code, "IncompleteSignature", "{bad}");
    }
}

#[test]
fn header_signed_clock_skew_is_enforced() {
    let mut spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    spec.time = SystemTime::now() - std::time::Duration::from_secs(16 * 60);
    let err = check(&spec.post(BODY), SECRET).unwrap_err();
    assert_eq!(err.code, "SignatureDoesNotMatch");
    assert!(err.message.starts_with("Signature expired"));
    spec.time = SystemTime::now() - std::time::Duration::from_secs(14 * 60);
    assert!(check(&spec.post(BODY), SECRET).is_ok());
}

#[test]
fn malformed_auth_material_is_incomplete() {
    let spec = Spec::new(AKID, SECRET, "127.0.0.1:4566");
    let base = spec.post(BODY);
    let auth = base.headers["authorization"].to_str().unwrap().to_owned();
    for bad in [
        auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
        auth.replace("Signature=", "Sig="),
        format!("{auth}, Signature=00"),
        auth.replace("Credential=", "Credential=x/"),
    ] {
        let mut req = base.clone();
        req.headers
            .insert("authorization", HeaderValue::from_str(&bad).unwrap());
        let err = req.with_received(|r| parse(r).map(|_| ())).unwrap_err();
        assert_eq!(err.status.as_u16(), 400, "{bad}: {err:?}");
    }
    let mut req = base.clone();
    req.headers.remove("x-amz-date");
    assert!(req.with_received(|r| parse(r).map(|_| ())).is_err());
    // Both mechanisms at once.
    let mut req = tvm_spec().presign(GCI, 60);
    req.headers
        .insert("authorization", HeaderValue::from_str(&auth).unwrap());
    assert!(req.with_received(|r| parse(r).map(|_| ())).is_err());
}

#[test]
fn no_auth_material_is_none() {
    let req = Signed {
        method: "GET",
        host: "h".into(),
        path_and_query: format!("/?{GCI}"),
        headers: http::HeaderMap::new(),
        body: Vec::new(),
    };
    assert!(req.with_received(parse).unwrap().is_none());
}

#[test]
fn signed_headers_must_include_host_and_be_sorted() {
    assert!(parse_signed_headers("host;x-tvm-audience").is_ok());
    assert!(parse_signed_headers("x-tvm-audience").is_err());
    assert!(parse_signed_headers("x-tvm-audience;host").is_err());
    assert!(parse_signed_headers("host;host").is_err());
    assert!(parse_signed_headers("host;").is_err());
    assert!(parse_signed_headers("Host").is_err());
}

#[test]
fn amz_date_parses_strictly() {
    let t = parse_amz_date("20260101T000000Z").unwrap();
    assert_eq!(t.to_string(), "2026-01-01T00:00:00Z");
    assert_eq!(amz_date(t), "20260101T000000Z");
    for bad in [
        "20260101T000000",
        "2026-01-01T00:00:00Z",
        "20261301T000000Z",
        "20260101T250000Z",
        "+0260101T000000Z",
        "20260101T00000ÄZ",
    ] {
        assert!(parse_amz_date(bad).is_none(), "{bad}");
    }
}

/// Every byte of `s` as `%XX`: a valid query component whatever `s` holds.
fn encode_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Form encoding as browsers and botocore write it: unreserved bytes as they
/// are, space as `+`, the rest as `%XX`.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any parameter value survives the rebuild: the verifier canonicalises the
    /// received query exactly as the signer did, and a different value fails.
    #[test]
    fn any_query_value_verifies_and_any_change_fails(
        value in "\\PC{0,24}",
        other in "\\PC{0,24}",
        form in proptest::bool::ANY,
    ) {
        let encoded = if form { form_encode(&value) } else { encode_all(&value) };
        let req = tvm_spec().presign(&format!("{GCI}&Extra={encoded}"), 60);
        proptest::prop_assert!(check(&req, SECRET).is_ok());
        if other != value {
            let mut tampered = req.clone();
            tampered.set_query_param("Extra", &encode_all(&other));
            proptest::prop_assert!(check(&tampered, SECRET).is_err());
        }
    }
}

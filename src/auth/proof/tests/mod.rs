//! Proof validation: destinations and a well-formed baseline (values.rs: the rest).

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::auth::testutil::{amz_date, t0};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SIG: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const NONCE: &str = "fedcba9876543210fedcba9876543210";
const AWS: &str = "https://sts.us-east-1.amazonaws.com";
const SIM: &str = "http://127.0.0.1:4599";

type Params = Vec<(&'static str, String)>;

fn params_at(at: Timestamp, region: &str) -> Params {
    let date = amz_date(at);
    vec![
        ("Action", "GetCallerIdentity".into()),
        ("Version", "2011-06-15".into()),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".into()),
        (
            "X-Amz-Credential",
            format!("{AKID}/{}/{region}/sts/aws4_request", &date[..8]),
        ),
        ("X-Amz-Date", date),
        ("X-Amz-Expires", "60".into()),
        ("X-Amz-SignedHeaders", TVM_V1_SIGNED_HEADERS.into()),
        ("X-Amz-Signature", SIG.into()),
    ]
}

fn params() -> Params {
    params_at(t0(), "us-east-1")
}

fn set(mut p: Params, name: &'static str, value: &str) -> Params {
    match p.iter_mut().find(|(k, _)| *k == name) {
        Some(slot) => slot.1 = value.into(),
        None => p.push((name, value.into())),
    }
    p
}

fn without(mut p: Params, name: &str) -> Params {
    p.retain(|(k, _)| *k != name);
    p
}

fn with_raw(p: Params, raw: &str) -> String {
    format!("{}&{raw}", query(&p))
}

fn query(p: &Params) -> String {
    encode_query(p.iter().map(|(k, v)| (*k, v.as_str())))
}

fn url(base: &str, p: &Params) -> String {
    format!("{base}/?{}", query(p))
}

fn aws() -> AllowedTarget {
    AllowedTarget::Aws(Allowlist::for_partition(crate::identity::Partition::Aws))
}

fn sim() -> AllowedTarget {
    AllowedTarget::Endpoint(Endpoint::parse(SIM).unwrap())
}

fn tvm(url: String) -> RawToken {
    RawToken {
        kind: TokenKind::TvmV1 {
            nonce: NONCE.into(),
        },
        url,
    }
}

fn check(target: &AllowedTarget, raw: &RawToken, now: Timestamp) -> &'static str {
    match validate(raw, target, SignedDuration::from_mins(5), now) {
        Ok(_) => "ok",
        Err(e) => e.reason(),
    }
}

#[test]
fn a_well_formed_proof_validates() {
    let proof = validate(
        &tvm(url(AWS, &params())),
        &aws(),
        SignedDuration::from_mins(5),
        t0(),
    )
    .unwrap();
    assert_eq!(proof.base_url, AWS);
    assert_eq!(proof.host_header, "sts.us-east-1.amazonaws.com");
    assert_eq!(proof.access_key_id, AKID);
    assert_eq!(proof.region, "us-east-1");
    assert_eq!(proof.signed_at, t0());
    assert_eq!(proof.expires_at(), t0() + SignedDuration::from_secs(60));
    assert_eq!(proof.signature, SIG);
    let mut sorted = params();
    sorted.sort();
    assert_eq!(proof.query(), query(&sorted));
    let shown = format!("{proof:?}");
    assert!(!shown.contains(SIG) && !shown.contains(NONCE), "{shown}");

    let with_token = set(params(), "X-Amz-Security-Token", "FwoG/ab+c=");
    let proof = validate(
        &tvm(url(AWS, &with_token)),
        &aws(),
        SignedDuration::from_mins(5),
        t0(),
    )
    .unwrap();
    assert!(proof
        .query()
        .contains("X-Amz-Security-Token=FwoG%2Fab%2Bc%3D"));
    assert!(!format!("{proof:?}").contains("FwoG"));
}

#[test]
fn every_destination_check_has_a_reason() {
    let p = params();
    let q = query(&p);
    let eu = params_at(t0(), "eu-west-1");
    let cases: Vec<(String, &str)> = vec![
        (url(AWS, &p), "ok"),
        (url("https://sts.amazonaws.com", &p), "ok"),
        (url("https://sts-fips.us-east-1.amazonaws.com", &p), "ok"),
        (url("https://sts.eu-west-1.amazonaws.com", &eu), "ok"),
        (format!("{AWS}?{q}"), "bad_path"),
        (format!("{AWS}/x?{q}"), "bad_path"),
        (format!("{AWS}//?{q}"), "bad_path"),
        (format!("{AWS}/%2e%2e/?{q}"), "bad_path"),
        (format!("{AWS}/"), "missing_param"),
        (
            format!("http://sts.us-east-1.amazonaws.com/?{q}"),
            "insecure_scheme",
        ),
        (
            format!("https://sts.us-east-1.amazonaws.com:443/?{q}"),
            "port_not_allowed",
        ),
        (format!("https://52.94.0.1/?{q}"), "ip_literal_host"),
        (format!("https://evil.example.com/?{q}"), "host_not_allowed"),
        (
            format!("https://sts.us-east-1.amazonaws.com.evil.com/?{q}"),
            "host_not_allowed",
        ),
        (
            format!("https://sts-fips.eu-west-1.amazonaws.com/?{q}"),
            "host_not_allowed",
        ),
        (
            format!("https://sts.cn-north-1.amazonaws.com.cn/?{q}"),
            "host_not_allowed",
        ),
        (
            url("https://sts.eu-west-1.amazonaws.com", &p),
            "region_mismatch",
        ),
        (url("https://sts.amazonaws.com", &eu), "region_mismatch"),
        (
            format!("https://sts.us-east-1.amazonaws.com/ ?{q}"),
            "bad_url_char",
        ),
        (
            format!("https://sts.us-east-1.amazonaws.com/?{q}\r\nX: y"),
            "bad_url_char",
        ),
        (
            format!("https://a@sts.us-east-1.amazonaws.com/?{q}"),
            "url_userinfo",
        ),
        (format!("{AWS}/?{q}#x"), "url_fragment"),
        (
            format!("ftp://sts.us-east-1.amazonaws.com/?{q}"),
            "bad_scheme",
        ),
        (
            format!("https://STS.us-east-1.amazonaws.com/?{q}"),
            "bad_host",
        ),
        (
            format!("https://sts.us-east-1.amazonaws.com:99999/?{q}"),
            "bad_port",
        ),
    ];
    for (u, want) in cases {
        assert_eq!(check(&aws(), &tvm(u.clone()), t0()), want, "{u}");
    }
}

#[test]
fn a_configured_endpoint_must_match_exactly() {
    let p = params();
    let cases: Vec<(String, &str)> = vec![
        (url(SIM, &p), "ok"),
        (url("https://127.0.0.1:4599", &p), "endpoint_mismatch"),
        (url("http://127.0.0.1:4600", &p), "endpoint_mismatch"),
        (url("http://127.0.0.1", &p), "endpoint_mismatch"),
        (url("http://localhost:4599", &p), "endpoint_mismatch"),
        (url(AWS, &p), "endpoint_mismatch"),
    ];
    for (u, want) in cases {
        assert_eq!(check(&sim(), &tvm(u.clone()), t0()), want, "{u}");
    }
    let proof = validate(
        &tvm(url(SIM, &p)),
        &sim(),
        SignedDuration::from_mins(5),
        t0(),
    )
    .unwrap();
    assert_eq!(
        (proof.base_url.as_str(), proof.host_header.as_str()),
        (SIM, "127.0.0.1:4599")
    );
    // The default port may be written or not; the Host the signer used omits it.
    let https = AllowedTarget::Endpoint(Endpoint::parse("https://vpce.example.com").unwrap());
    let proof = validate(
        &tvm(url("https://vpce.example.com:443", &p)),
        &https,
        SignedDuration::from_mins(5),
        t0(),
    )
    .unwrap();
    assert_eq!(proof.host_header, "vpce.example.com");
}

mod values;

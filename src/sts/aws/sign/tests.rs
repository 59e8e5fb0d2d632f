//! The hand-written canonical request against `aws-sigv4`'s own `sign`.

use std::time::SystemTime;

use aws_sigv4::http_request::{
    sign as sdk_sign, SignableBody, SignableRequest, SigningParams, SigningSettings,
};
use aws_sigv4::sign::v4;

use super::*;

/// The `Authorization` and token headers `aws-sigv4` produces for the request.
fn reference(
    service: &str,
    creds: &AwsCredentials,
    host: &str,
    region: &str,
    body: &[u8],
    time: Timestamp,
) -> (String, Option<String>, String) {
    let identity = creds.clone().into();
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::from(time))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [("content-type", CONTENT_TYPE), ("host", host)];
    let request = SignableRequest::new(
        "POST",
        format!("https://{host}/"),
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sdk_sign(request, &params).unwrap().into_parts();
    let (headers, _) = instructions.into_parts();
    let get = |n: &str| {
        headers
            .iter()
            .find(|h| h.name() == n)
            .map(|h| h.value().to_owned())
    };
    (
        get("authorization").unwrap(),
        get("x-amz-security-token"),
        get("x-amz-date").unwrap(),
    )
}

fn creds(token: Option<&str>) -> AwsCredentials {
    AwsCredentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        token.map(str::to_owned),
        None,
        "tests",
    )
}

#[test]
fn an_iam_signature_is_aws_sigv4s_byte_for_byte() {
    let body =
        b"Action=PutRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=p&PolicyDocument=%7B%7D";
    let creds = creds(Some("FwoGZXIvYXdzEBYaDH+/token=="));
    let keys = KeyCache::default();
    for t in ["2026-03-01T23:59:59Z", "2026-03-02T00:00:00Z"] {
        let time: Timestamp = t.parse().unwrap();
        let ours = sign_for(
            "iam",
            &creds,
            &keys,
            "us-east-1",
            "iam.amazonaws.com",
            body,
            time,
        );
        let (authorization, security_token, _) =
            reference("iam", &creds, "iam.amazonaws.com", "us-east-1", body, time);
        assert_eq!(ours.authorization, authorization, "{t}");
        assert!(authorization.contains("/us-east-1/iam/aws4_request"));
        assert_eq!(ours.security_token, security_token);
    }
}

#[test]
fn the_signature_is_aws_sigv4s_byte_for_byte() {
    let body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr";
    let times = [
        "2026-03-01T23:59:59Z",
        "2026-03-02T00:00:00Z",
        "2026-03-02T12:34:56Z",
    ];
    for token in [None, Some("FwoGZXIvYXdzEBYaDH+/token==")] {
        let creds = creds(token);
        // One cache across days: the key of the day before must not be reused.
        let keys = KeyCache::default();
        for (host, region) in [
            ("sts.us-east-1.amazonaws.com", "us-east-1"),
            ("127.0.0.1:4599", "us-east-1"),
        ] {
            for t in times {
                let time: Timestamp = t.parse().unwrap();
                let ours = sign(&creds, &keys, region, host, body, time);
                let (authorization, security_token, amz_date) =
                    reference(SERVICE, &creds, host, region, body, time);
                assert_eq!(ours.authorization, authorization, "{host} {t} {token:?}");
                assert_eq!(ours.security_token, security_token);
                assert_eq!(ours.amz_date, amz_date);
            }
        }
    }
}

#[test]
fn the_key_is_derived_once_a_day_and_never_shown() {
    let creds = creds(None);
    let keys = KeyCache::default();
    let day1: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    let key1 = keys.key(&creds, "20260301", day1, "us-east-1");
    assert_eq!(
        keys.slot.lock().unwrap().map(|(d, _)| d),
        Some(*b"20260301")
    );
    assert_eq!(keys.key(&creds, "20260301", day1, "us-east-1"), key1);
    let day2: Timestamp = "2026-03-02T00:00:01Z".parse().unwrap();
    let key2 = keys.key(&creds, "20260302", day2, "us-east-1");
    assert_ne!(key1, key2);
    let fresh = generate_signing_key(creds.secret_access_key(), day2.into(), "us-east-1", SERVICE);
    assert_eq!(&key2[..], fresh.as_ref());
    assert_eq!(format!("{keys:?}"), "KeyCache(<redacted>)");
    let signed = sign(&creds, &keys, "us-east-1", "h", b"", day2);
    let shown = format!("{signed:?}");
    assert!(!shown.contains("Signature=") && !shown.contains(creds.secret_access_key()));
}

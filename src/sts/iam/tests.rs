//! The IAM client against canned loopback answers: the request it sends
//! (signed for `iam`, form body), each error code, strict answers, endpoints.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::answer::percent_decode;
use super::*;

const ROLE: &str = "TvmProtected-ProdAdmin";
const POLICY: &str = "tvm-revocations-tvm-prod";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"TvmRevokedSessionsProd","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:SourceIdentity":["tvm.*.a2d43d42a691"]}}}]}"#;

fn creds() -> Credentials {
    Credentials {
        access_key_id: "ASIAREVOKER000000001".into(),
        secret_access_key: "revoker-secret".into(),
        session_token: "revoker-token".into(),
        expiration: "2099-01-01T00:00:00Z".parse().unwrap(),
    }
}

/// Serves one canned answer; returns the client and what it received.
async fn serve_once(status: &str, body: &str) -> (AwsIam, Arc<Mutex<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let keep = seen.clone();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len || n == 0 {
                    *keep.lock().unwrap() = text;
                    break;
                }
            }
        }
        sock.write_all(response.as_bytes()).await.unwrap();
        let _ = sock.shutdown().await;
    });
    let iam = AwsIam::new(Partition::Aws, Some(&format!("http://{addr}"))).unwrap();
    (iam, seen)
}

fn error(code: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>{code}</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
    )
}

const PUT_OK: &str = r#"<PutRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PutRolePolicyResponse>"#;

#[tokio::test]
async fn put_sends_a_form_signed_for_iam() {
    let (iam, seen) = serve_once("200 OK", PUT_OK).await;
    iam.put_role_policy(&creds(), ROLE, POLICY, DOC)
        .await
        .unwrap();
    let request = seen.lock().unwrap().clone();
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST / HTTP/1.1"), "{head}");
    assert!(
        head.contains("/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"),
        "{head}"
    );
    assert!(
        head.contains("x-amz-security-token: revoker-token"),
        "{head}"
    );
    assert!(
        body.starts_with(&format!(
            "Action=PutRolePolicy&Version=2010-05-08&RoleName={ROLE}&PolicyName={POLICY}&PolicyDocument=%7B%22Version%22"
        )),
        "{body}"
    );
    let document = body.split("PolicyDocument=").nth(1).unwrap();
    assert_eq!(percent_decode(document).unwrap(), DOC);
}

/// Whether an error is the expected variant.
type Check = fn(&IamError) -> bool;

#[tokio::test]
async fn each_error_code_is_typed() {
    let cases: [(&str, &str, Check); 7] = [
        (
            "404 Not Found",
            "NoSuchEntity",
            |e| matches!(e, IamError::NoSuchEntity(m) if m == "m"),
        ),
        ("409 Conflict", "LimitExceeded", |e| {
            matches!(e, IamError::LimitExceeded(_))
        }),
        ("400 Bad Request", "MalformedPolicyDocument", |e| {
            matches!(e, IamError::MalformedPolicyDocument(_))
        }),
        ("403 Forbidden", "AccessDenied", |e| {
            matches!(e, IamError::AccessDenied(_))
        }),
        ("400 Bad Request", "Throttling", |e| {
            matches!(e, IamError::Throttling(_))
        }),
        ("503 Service Unavailable", "ServiceFailure", |e| {
            matches!(e, IamError::Unavailable(_))
        }),
        (
            "403 Forbidden",
            "SignatureDoesNotMatch",
            |e| matches!(e, IamError::Rejected { code, .. } if code == "SignatureDoesNotMatch"),
        ),
    ];
    for (status, code, check) in cases {
        let (iam, _) = serve_once(status, &error(code)).await;
        let err = iam
            .put_role_policy(&creds(), ROLE, POLICY, DOC)
            .await
            .unwrap_err();
        assert!(check(&err), "{code}: {err:?}");
    }
    let (iam, _) = serve_once("429 Too Many Requests", "").await;
    let err = iam
        .delete_role_policy(&creds(), ROLE, POLICY)
        .await
        .unwrap_err();
    assert!(matches!(err, IamError::Throttling(_)), "{err:?}");
}

#[tokio::test]
async fn get_decodes_the_document_and_maps_no_such_entity_to_none() {
    let mut encoded = String::new();
    super::super::aws::form::param(&mut encoded, "x", DOC);
    let encoded = &encoded[3..];
    let ok = format!(
        r#"<GetRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRolePolicyResult><PolicyName>{POLICY}</PolicyName><RoleName>{ROLE}</RoleName><PolicyDocument>{encoded}</PolicyDocument></GetRolePolicyResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetRolePolicyResponse>"#
    );
    let (iam, seen) = serve_once("200 OK", &ok).await;
    let got = iam.get_role_policy(&creds(), ROLE, POLICY).await.unwrap();
    assert_eq!(got.as_deref(), Some(DOC));
    assert!(seen
        .lock()
        .unwrap()
        .contains("Action=GetRolePolicy&Version=2010-05-08&RoleName="));

    let (iam, _) = serve_once("404 Not Found", &error("NoSuchEntity")).await;
    assert_eq!(
        iam.get_role_policy(&creds(), ROLE, POLICY).await.unwrap(),
        None
    );

    // An answer about another policy is not this one's document.
    let other = ok.replace(POLICY, "someone-elses");
    let (iam, _) = serve_once("200 OK", &other).await;
    let err = iam
        .get_role_policy(&creds(), ROLE, POLICY)
        .await
        .unwrap_err();
    assert!(matches!(err, IamError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn success_answers_are_read_strictly() {
    for bad in [
        PUT_OK.replace(
            "iam.amazonaws.com/doc/2010-05-08",
            "sts.amazonaws.com/doc/2011-06-15",
        ),
        PUT_OK.replace("PutRolePolicyResponse", "DeleteRolePolicyResponse"),
        format!("<!DOCTYPE x>{PUT_OK}"),
        "not xml".to_owned(),
    ] {
        let (iam, _) = serve_once("200 OK", &bad).await;
        let err = iam
            .put_role_policy(&creds(), ROLE, POLICY, DOC)
            .await
            .unwrap_err();
        assert!(matches!(err, IamError::Unavailable(_)), "{bad}: {err:?}");
    }
}

#[test]
fn percent_decoding_is_strict() {
    assert_eq!(
        percent_decode("%7B%22a%22%3A1%7D").as_deref(),
        Some(r#"{"a":1}"#)
    );
    assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
    assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
    for bad in ["%", "%7", "%zz", "%FF", "%+1"] {
        assert_eq!(percent_decode(bad), None, "{bad}");
    }
}

#[test]
fn endpoints_follow_the_partition_and_the_endpoint_rules() {
    for (partition, host, region) in [
        (Partition::Aws, "iam.amazonaws.com", "us-east-1"),
        (
            Partition::AwsCn,
            "iam.cn-north-1.amazonaws.com.cn",
            "cn-north-1",
        ),
        (
            Partition::AwsUsGov,
            "iam.us-gov.amazonaws.com",
            "us-gov-west-1",
        ),
    ] {
        let iam = AwsIam::new(partition, None).unwrap();
        assert_eq!(iam.target.host, host);
        assert_eq!(iam.target.uri.to_string(), format!("https://{host}/"));
        assert_eq!(iam.region, region);
    }
    let iam = AwsIam::new(Partition::Aws, Some("https://iam.example.test:443")).unwrap();
    assert_eq!(iam.target.host, "iam.example.test");
    let iam = AwsIam::new(Partition::Aws, Some("http://127.0.0.1:5000/")).unwrap();
    assert_eq!(iam.target.host, "127.0.0.1:5000");
    for bad in [
        "http://iam.example.test",
        "https://iam.example.test/path",
        "https://user@iam.example.test",
        "ftp://127.0.0.1",
    ] {
        let err = AwsIam::new(Partition::Aws, Some(bad)).unwrap_err();
        assert!(matches!(err, IamError::Unavailable(_)), "{bad}");
    }
}

#[test]
fn debug_shows_no_secret() {
    let iam = AwsIam::new(Partition::Aws, None).unwrap();
    let text = format!("{iam:?} {:?}", creds());
    assert!(!text.contains("revoker-secret") && !text.contains("revoker-token"));
}

//! The strict reading of AssumeRole documents and the error classes.

use bytes::Bytes;
use http::StatusCode;

use super::*;

fn response(status: u16, body: &str) -> TransportResponse {
    TransportResponse {
        status: StatusCode::from_u16(status).unwrap(),
        content_type: Some("text/xml".into()),
        request_id: Some("rid".into()),
        body: Bytes::from(body.to_owned()),
    }
}

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn doc(result: &str) -> String {
    format!(
        "<AssumeRoleResponse xmlns=\"{NS}\"><AssumeRoleResult>{result}</AssumeRoleResult>\
         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"
    )
}

const CREDS: &str = "<Credentials><AccessKeyId>ASIAX</AccessKeyId>\
    <SecretAccessKey>s&amp;&#x2F;</SecretAccessKey><SessionToken>t</SessionToken>\
    <Expiration>2030-01-01T00:00:00.5Z</Expiration></Credentials>";
const USER: &str = "<AssumedRoleUser><AssumedRoleId>AROAX:s</AssumedRoleId>\
    <Arn>arn:aws:sts::111122223333:assumed-role/R/s</Arn></AssumedRoleUser>";

#[test]
fn reads_the_fields_of_a_good_answer() {
    let out = assumed_role(&response(200, &doc(&format!("{USER}{CREDS}")))).unwrap();
    assert_eq!(out.credentials.access_key_id, "ASIAX");
    assert_eq!(out.credentials.secret_access_key, "s&/");
    assert_eq!(
        out.credentials.expiration,
        "2030-01-01T00:00:00.5Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        out.assumed_role_arn.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/R/s")
    );
    assert_eq!(out.sts_request_id.as_deref(), Some("rid"));
    let bare = assumed_role(&response(200, &doc(CREDS))).unwrap();
    assert_eq!(bare.assumed_role_arn, None);
}

/// AWS has added fields to this answer before; a new one, anywhere tvm reads
/// from, is skipped whole — its children and entities too — while every field
/// tvm needs is still required exactly once.
#[test]
fn skips_fields_aws_may_add() {
    let good = format!("{USER}{CREDS}")
        .replace(
            "<AccessKeyId>",
            "<New><Deep>x &amp; &e;</Deep></New><AccessKeyId>",
        )
        .replace("<Arn>", "<Other/><Arn>");
    let body = doc(&format!("{good}<Later>1</Later>"));
    let out = assumed_role(&response(200, &body)).unwrap();
    assert_eq!(out.credentials.access_key_id, "ASIAX");
    assert_eq!(
        out.assumed_role_arn.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/R/s")
    );
}

#[test]
fn refuses_every_bad_shape() {
    let good = format!("{USER}{CREDS}");
    let bad = [
        (
            "doctype",
            format!("<!DOCTYPE x [<!ENTITY e \"x\">]>{}", doc(&good)),
        ),
        (
            "entity",
            doc(&good).replace("<SessionToken>t", "<SessionToken>&e;"),
        ),
        ("comment", doc(&format!("<!-- c -->{good}"))),
        (
            "unknown element outside the result",
            doc(&good).replace(
                "</AssumeRoleResponse>",
                "<Extra>1</Extra></AssumeRoleResponse>",
            ),
        ),
        (
            "unknown element skipped, but the field inside it is not read",
            doc(&good).replace(
                "<SessionToken>t</SessionToken>",
                "<Wrapper><SessionToken>t</SessionToken></Wrapper>",
            ),
        ),
        ("duplicate credentials", doc(&format!("{good}{CREDS}"))),
        (
            "duplicate field",
            doc(&good).replace(
                "<SessionToken>t</SessionToken>",
                "<SessionToken>t</SessionToken><SessionToken>u</SessionToken>",
            ),
        ),
        (
            "attribute",
            doc(&good).replace("<Credentials>", "<Credentials a=\"1\">"),
        ),
        ("wrong namespace", doc(&good).replace(NS, "urn:x")),
        (
            "wrong root",
            doc(&good).replace("AssumeRoleResponse", "GetCallerIdentityResponse"),
        ),
        ("text outside leaves", doc(&format!("x{good}"))),
        (
            "missing secret",
            doc(&good).replace("<SecretAccessKey>s&amp;&#x2F;</SecretAccessKey>", ""),
        ),
        ("no credentials", doc(USER)),
        (
            "arn-less user",
            doc(&format!(
                "<AssumedRoleUser><AssumedRoleId>A:s</AssumedRoleId></AssumedRoleUser>{CREDS}"
            )),
        ),
        (
            "bad expiration",
            doc(&good).replace("2030-01-01T00:00:00.5Z", "tomorrow"),
        ),
        ("not utf-8", "\u{FFFD}".into()),
        (
            "nested too deep",
            doc(&good).replace(
                "<AccessKeyId>ASIAX",
                "<AccessKeyId><AccessKeyId>ASIAX</AccessKeyId>",
            ),
        ),
    ];
    for (what, body) in bad {
        let mut r = response(200, &body);
        if what == "not utf-8" {
            r.body = Bytes::from_static(b"\xff\xfe");
        }
        let err = assumed_role(&r).unwrap_err();
        assert_eq!(err.outcome(), "unavailable", "{what}: {err}");
        assert!(!err.to_string().contains("s&/"), "{what}");
    }
}

#[test]
fn classifies_errors_like_the_sdk_adapter() {
    let fault = |code: &str| {
        format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>m &amp; &quot;q&quot;</Message></Error><RequestId>r</RequestId></ErrorResponse>")
    };
    let cases = [
        (429, String::new(), "throttled", "Unknown (HTTP 429)"),
        (400, fault("Throttling"), "throttled", "Throttling"),
        (
            400,
            fault("RequestLimitExceeded"),
            "throttled",
            "RequestLimitExceeded",
        ),
        (
            400,
            fault("ThrottlingException"),
            "rejected",
            "ThrottlingException",
        ),
        (403, fault("AccessDenied"), "rejected", "AccessDenied"),
        (
            500,
            fault("InternalFailure"),
            "unavailable",
            "InternalFailure",
        ),
        (503, "<html/>".into(), "unavailable", "Unknown (HTTP 503)"),
        (302, String::new(), "rejected", "Unknown (HTTP 302)"),
        (
            403,
            "<!DOCTYPE x><ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>".into(),
            "rejected",
            "Unknown (HTTP 403)",
        ),
        (
            403,
            "<E><Errors><Error><Code>X</Code></Error></Errors></E>".into(),
            "rejected",
            "Unknown (HTTP 403)",
        ),
        (
            403,
            "<E><Error><Code>A&bogus;</Code></Error></E>".into(),
            "rejected",
            "Unknown (HTTP 403)",
        ),
        (
            400,
            "<E><Error><Code>A</Code><Code>B</Code></Error></E>".into(),
            "rejected",
            "B",
        ),
    ];
    for (status, body, class, code) in cases {
        let err = classify(&response(status, &body));
        assert_eq!(err.outcome(), class, "{status} {body}");
        assert!(err.to_string().contains(code), "{status} {body}: {err}");
        if let StsError::Rejected { code: c, message } = &err {
            assert_eq!(c, code);
            if body.contains("&quot;") {
                assert_eq!(message, "m & \"q\"");
            }
        }
        let retry = retryable(status, &err);
        assert_eq!(
            retry,
            class == "throttled" || status >= 500,
            "{status} {body}"
        );
    }
}

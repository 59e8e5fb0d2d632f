//! GetCallerIdentity answer parsing: good answers and every bad shape.

use proptest::prelude::*;

use super::*;
use crate::auth::testutil::{error, gci_xml, response};

const NS: &str = STS_NAMESPACE;
const USER_ARN: &str = "arn:aws:iam::111122223333:user/ops/alice";
const USER_ID: &str = "AIDAEXAMPLEEXAMPLE123";
const ACCOUNT: &str = "111122223333";

fn xml(inner: &str) -> TransportResponse {
    response(
        200,
        "text/xml",
        &format!(r#"<GetCallerIdentityResponse xmlns="{NS}">{inner}</GetCallerIdentityResponse>"#),
    )
}

fn result(arn: &str, user_id: &str, account: &str) -> String {
    format!(
        "<GetCallerIdentityResult><Arn>{arn}</Arn><UserId>{user_id}</UserId>\
         <Account>{account}</Account></GetCallerIdentityResult>"
    )
}

fn good() -> String {
    result(USER_ARN, USER_ID, ACCOUNT)
}

fn fields(r: &TransportResponse) -> Result<GciFields, &'static str> {
    interpret(r).map_err(|e| match e {
        VerifyError::BadStsResponse(inner) => match inner {
            ResponseError::Doctype => "doctype",
            ResponseError::ProcessingInstruction => "pi",
            ResponseError::Entity => "entity",
            ResponseError::UnsupportedNode => "node",
            ResponseError::WrongRoot => "root",
            ResponseError::WrongNamespace => "namespace",
            ResponseError::UnexpectedAttribute => "attribute",
            ResponseError::UnexpectedElement => "unexpected",
            ResponseError::DuplicateElement => "duplicate",
            ResponseError::MissingElement => "missing",
            ResponseError::Malformed => "malformed",
            ResponseError::ContentType => "content_type",
            ResponseError::TooLarge => "too_large",
            ResponseError::NotUtf8 => "utf8",
            other => panic!("{other:?}"),
        },
        other => other.reason(),
    })
}

#[test]
fn parses_sts_xml() {
    let f = fields(&gci_xml(USER_ARN, USER_ID, ACCOUNT)).unwrap();
    assert_eq!(
        (f.arn.as_str(), f.user_id.as_str(), f.account.as_str()),
        (USER_ARN, USER_ID, ACCOUNT)
    );
    let decl = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    let mut r = xml(&good());
    r.body = format!("{decl}{}", std::str::from_utf8(&r.body).unwrap()).into();
    assert!(fields(&r).is_ok());
    // Prefixed namespace, predefined and character references in leaves.
    let prefixed = format!(
        r#"<s:GetCallerIdentityResponse xmlns:s="{NS}"><s:GetCallerIdentityResult><s:Arn>{USER_ARN}</s:Arn><s:UserId>AIDA&#x45;X</s:UserId><s:Account>{ACCOUNT}</s:Account></s:GetCallerIdentityResult></s:GetCallerIdentityResponse>"#
    );
    let f = fields(&response(200, "application/xml; charset=utf-8", &prefixed)).unwrap();
    assert_eq!(f.user_id, "AIDAEX");
}

#[test]
fn rejects_each_bad_xml_shape() {
    let g = good();
    let cases: Vec<(String, &str)> = vec![
        (
            format!(r#"<!DOCTYPE x [<!ENTITY e "arn">]><GetCallerIdentityResponse xmlns="{NS}">{g}</GetCallerIdentityResponse>"#),
            "doctype",
        ),
        (
            format!(r#"<?xml-stylesheet href="x"?><GetCallerIdentityResponse xmlns="{NS}">{g}</GetCallerIdentityResponse>"#),
            "pi",
        ),
        (
            format!(r#"<GetCallerIdentityResponse xmlns="{NS}"><?xml version="1.0"?>{g}</GetCallerIdentityResponse>"#),
            "pi",
        ),
        (
            format!(r#"<GetCallerIdentityResponse xmlns="{NS}">{}</GetCallerIdentityResponse>"#, result("&xxe;", USER_ID, ACCOUNT)),
            "entity",
        ),
        (
            format!(r#"<GetCallerIdentityResponse xmlns="{NS}"><!-- c -->{g}</GetCallerIdentityResponse>"#),
            "node",
        ),
        (
            format!(r#"<GetCallerIdentityResponse xmlns="{NS}">{}</GetCallerIdentityResponse>"#, result(&format!("<![CDATA[{USER_ARN}]]>"), USER_ID, ACCOUNT)),
            "node",
        ),
        (format!(r#"<AssumeRoleResponse xmlns="{NS}">{g}</AssumeRoleResponse>"#), "root"),
        (format!(r#"<GetCallerIdentityResponse>{g}</GetCallerIdentityResponse>"#), "namespace"),
        (
            format!(r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-16/">{g}</GetCallerIdentityResponse>"#),
            "namespace",
        ),
        (
            format!(r#"<GetCallerIdentityResponse xmlns="{NS}"><GetCallerIdentityResult xmlns="urn:evil"><Arn>{USER_ARN}</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>"#),
            "namespace",
        ),
        (
            format!(r#"<GetCallerIdentityResponse xmlns="{NS}" id="1">{g}</GetCallerIdentityResponse>"#),
            "attribute",
        ),
        (format!(r#"<GetCallerIdentityResponse xmlns="{NS}">{g}{g}</GetCallerIdentityResponse>"#), "duplicate"),
        (
            format!(
                r#"<GetCallerIdentityResponse xmlns="{NS}"><GetCallerIdentityResult><Arn>{USER_ARN}</Arn><Arn>{USER_ARN}</Arn><UserId>{USER_ID}</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"#
            ),
            "duplicate",
        ),
        (
            format!(
                r#"<GetCallerIdentityResponse xmlns="{NS}"><GetCallerIdentityResult><Arn>{USER_ARN}</Arn><UserId>{USER_ID}</UserId><Account>{ACCOUNT}</Account><Extra/></GetCallerIdentityResult></GetCallerIdentityResponse>"#
            ),
            "unexpected",
        ),
        (
            format!(
                r#"<GetCallerIdentityResponse xmlns="{NS}"><GetCallerIdentityResult><Arn><b>{USER_ARN}</b></Arn><UserId>{USER_ID}</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"#
            ),
            "unexpected",
        ),
        (format!(r#"<GetCallerIdentityResponse xmlns="{NS}">{g}<Other/></GetCallerIdentityResponse>"#), "unexpected"),
        (format!(r#"<GetCallerIdentityResponse xmlns="{NS}"></GetCallerIdentityResponse>"#), "missing"),
        (
            format!(
                r#"<GetCallerIdentityResponse xmlns="{NS}"><GetCallerIdentityResult><Arn>{USER_ARN}</Arn><Account>{ACCOUNT}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"#
            ),
            "missing",
        ),
        (
            format!(r#"<GetCallerIdentityResponse xmlns="{NS}">{g}</GetCallerIdentityResponse><GetCallerIdentityResponse xmlns="{NS}"/>"#),
            "malformed",
        ),
        (format!(r#"<GetCallerIdentityResponse xmlns="{NS}">{g}"#), "malformed"),
        (format!(r#"<GetCallerIdentityResponse xmlns="{NS}">text{g}</GetCallerIdentityResponse>"#), "malformed"),
        (String::new(), "malformed"),
        (
            r#"{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Arn":"a","UserId":"b","Account":"c"}}}"#.into(),
            "malformed",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(
            fields(&response(200, "text/xml", &body)).unwrap_err(),
            want,
            "{body}"
        );
    }
}

fn json(body: &str) -> TransportResponse {
    response(200, "application/json", body)
}

#[test]
fn parses_sts_json_strictly() {
    let ok = format!(
        r#"{{"GetCallerIdentityResponse":{{"GetCallerIdentityResult":{{"Arn":"{USER_ARN}","UserId":"{USER_ID}","Account":"{ACCOUNT}"}},"ResponseMetadata":{{"RequestId":"r"}}}}}}"#
    );
    assert_eq!(fields(&json(&ok)).unwrap().arn, USER_ARN);
    assert!(fields(&response(200, "application/x-amz-json-1.1", &ok)).is_ok());
    let bad = [
        // Two Arn keys.
        format!(
            r#"{{"GetCallerIdentityResponse":{{"GetCallerIdentityResult":{{"Arn":"x","Arn":"{USER_ARN}","UserId":"{USER_ID}","Account":"{ACCOUNT}"}}}}}}"#
        ),
        // Unknown key inside the result.
        format!(
            r#"{{"GetCallerIdentityResponse":{{"GetCallerIdentityResult":{{"Arn":"{USER_ARN}","UserId":"{USER_ID}","Account":"{ACCOUNT}","Extra":1}}}}}}"#
        ),
        // Missing field, numeric account, wrong root, XML sent as JSON.
        format!(
            r#"{{"GetCallerIdentityResponse":{{"GetCallerIdentityResult":{{"Arn":"{USER_ARN}","Account":"{ACCOUNT}"}}}}}}"#
        ),
        format!(
            r#"{{"GetCallerIdentityResponse":{{"GetCallerIdentityResult":{{"Arn":"{USER_ARN}","UserId":"{USER_ID}","Account":111122223333}}}}}}"#
        ),
        format!(
            r#"{{"AssumeRoleResponse":{{"GetCallerIdentityResult":{{"Arn":"{USER_ARN}","UserId":"{USER_ID}","Account":"{ACCOUNT}"}}}}}}"#
        ),
        format!(
            r#"<GetCallerIdentityResponse xmlns="{NS}">{}</GetCallerIdentityResponse>"#,
            good()
        ),
    ];
    for body in bad {
        assert_eq!(fields(&json(&body)).unwrap_err(), "malformed", "{body}");
    }
    // JSON whose Arn embeds XML parses as a string, and the ARN check refuses it.
    let embedded = format!(
        r#"{{"GetCallerIdentityResponse":{{"GetCallerIdentityResult":{{"Arn":"<Arn>{USER_ARN}</Arn>","UserId":"{USER_ID}","Account":"{ACCOUNT}"}}}}}}"#
    );
    let f = fields(&json(&embedded)).unwrap();
    assert_eq!(
        check_identity(f, Partition::Aws).unwrap_err(),
        ResponseError::BadArn
    );
}

#[test]
fn checks_content_type_size_and_encoding() {
    let body = format!(
        r#"<GetCallerIdentityResponse xmlns="{NS}">{}</GetCallerIdentityResponse>"#,
        good()
    );
    assert_eq!(
        fields(&response(200, "text/html", &body)).unwrap_err(),
        "content_type"
    );
    let mut r = response(200, "text/xml", &body);
    r.content_type = None;
    assert_eq!(fields(&r).unwrap_err(), "content_type");
    let big = format!("{body}{}", " ".repeat(MAX_RESPONSE_BYTES));
    assert_eq!(
        fields(&response(200, "text/xml", &big)).unwrap_err(),
        "too_large"
    );
    let mut r = response(200, "text/xml", "");
    r.body = bytes::Bytes::from_static(b"\xff\xfe<x/>");
    assert_eq!(fields(&r).unwrap_err(), "utf8");
}

#[test]
fn classifies_statuses() {
    let reason = |r: TransportResponse| interpret(&r).unwrap_err();
    assert_eq!(
        reason(error(403, "SignatureDoesNotMatch")),
        VerifyError::StsRejected {
            status: 403,
            code: Some("SignatureDoesNotMatch".into())
        }
    );
    assert_eq!(
        reason(error(400, "Throttling")),
        VerifyError::StsThrottled { status: 400 }
    );
    assert_eq!(
        reason(error(429, "Anything")),
        VerifyError::StsThrottled { status: 429 }
    );
    assert_eq!(
        reason(response(429, "text/plain", "slow down")),
        VerifyError::StsThrottled { status: 429 }
    );
    let json_throttle = r#"{"Error":{"Code":"Throttling","Message":"Rate exceeded"}}"#;
    assert_eq!(
        reason(response(400, "application/json", json_throttle)),
        VerifyError::StsThrottled { status: 400 }
    );
    assert_eq!(
        reason(error(500, "InternalFailure")).reason(),
        "sts_unavailable"
    );
    assert_eq!(
        reason(error(503, "ServiceUnavailable")).reason(),
        "sts_unavailable"
    );
    assert_eq!(
        reason(response(302, "text/html", "")).reason(),
        "sts_redirect"
    );
    assert_eq!(
        reason(response(204, "text/xml", "")).reason(),
        "bad_sts_response"
    );
    // Hostile error bodies yield no code, and the message never surfaces.
    let doctype =
        r#"<!DOCTYPE x><ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>"#;
    assert_eq!(
        reason(response(400, "text/xml", doctype)),
        VerifyError::StsRejected {
            status: 400,
            code: None
        }
    );
    let injected = "<ErrorResponse><Error><Code>Bad\nCode</Code></Error></ErrorResponse>";
    assert_eq!(
        reason(response(403, "text/xml", injected)),
        VerifyError::StsRejected {
            status: 403,
            code: None
        }
    );
    let shown = reason(error(403, "AccessDenied")).to_string();
    assert!(!shown.contains("secret detail"), "{shown}");
}

fn identity(arn: &str, user_id: &str, account: &str) -> Result<String, ResponseError> {
    let f = GciFields {
        arn: arn.into(),
        user_id: user_id.into(),
        account: account.into(),
    };
    check_identity(f, Partition::Aws).map(|(i, _)| i.username().to_owned())
}

#[test]
fn checks_fields_against_each_other() {
    let role = "arn:aws:sts::111122223333:assumed-role/Dev/alice@example.com";
    let fed = "arn:aws:sts::111122223333:federated-user/bob";
    let root = "arn:aws:iam::111122223333:root";
    assert_eq!(identity(USER_ARN, USER_ID, ACCOUNT).unwrap(), "alice");
    assert_eq!(
        identity(role, "AROAEXAMPLE1:alice@example.com", ACCOUNT).unwrap(),
        "alice@example.com"
    );
    assert_eq!(identity(fed, "111122223333:bob", ACCOUNT).unwrap(), "bob");
    assert_eq!(identity(root, ACCOUNT, ACCOUNT).unwrap(), "root");
    let cases = [
        (USER_ARN, USER_ID, "11112222333", ResponseError::BadAccount),
        (USER_ARN, USER_ID, "11112222333a", ResponseError::BadAccount),
        (
            USER_ARN,
            USER_ID,
            "444455556666",
            ResponseError::AccountMismatch,
        ),
        (
            "arn:aws:iam::111122223333:role/Dev",
            USER_ID,
            ACCOUNT,
            ResponseError::BadArn,
        ),
        (
            "arn:aws-iso:iam::111122223333:user/a",
            USER_ID,
            ACCOUNT,
            ResponseError::BadArn,
        ),
        (
            "arn:aws-cn:iam::111122223333:user/a",
            USER_ID,
            ACCOUNT,
            ResponseError::PartitionMismatch,
        ),
        (USER_ARN, "AROAEXAMPLE", ACCOUNT, ResponseError::BadUserId),
        (USER_ARN, "AIDA", ACCOUNT, ResponseError::BadUserId),
        (USER_ARN, "AIDAabc", ACCOUNT, ResponseError::BadUserId),
        (
            role,
            "AROAEXAMPLE1:mallory@example.com",
            ACCOUNT,
            ResponseError::BadUserId,
        ),
        (
            role,
            "AIDAEXAMPLE1:alice@example.com",
            ACCOUNT,
            ResponseError::BadUserId,
        ),
        (role, "AROAEXAMPLE1", ACCOUNT, ResponseError::BadUserId),
        (fed, "444455556666:bob", ACCOUNT, ResponseError::BadUserId),
        (fed, "111122223333:eve", ACCOUNT, ResponseError::BadUserId),
        (root, "AIDAEXAMPLE", ACCOUNT, ResponseError::BadUserId),
    ];
    for (arn, uid, acct, want) in cases {
        assert_eq!(
            identity(arn, uid, acct).unwrap_err(),
            want,
            "{arn} {uid} {acct}"
        );
    }
}

proptest! {
    #[test]
    fn never_panics_on_any_body(body in ".{0,500}", ct in prop_oneof![Just("text/xml"), Just("application/json")]) {
        let _ = interpret(&response(200, ct, &body));
        let _ = interpret(&response(400, ct, &body));
    }

    #[test]
    fn never_panics_on_xml_like_bodies(body in "[<>/a-zA-Z=\"&;#!?: -]{0,300}") {
        let _ = interpret(&response(200, "text/xml", &body));
        let _ = interpret(&response(403, "text/xml", &body));
    }
}

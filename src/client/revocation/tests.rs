//! The §13 commands' rules: what ARG may name, how a request id resolves,
//! what a session or revocation must satisfy, and how server text prints.

use super::checked::{is_access_key_id, revocation, session};
use super::revoke::{parse_duration_seconds, parse_session_ref, pick_live, SessionRef};
use super::show::{revocation_text, session_table};
use super::wire::{RevocationInfo, SessionInfo};

fn sample_session(id: &str, rid: &str, status: &str) -> SessionInfo {
    serde_json::from_value(serde_json::json!({
        "Id": id, "RequestId": rid, "CreatedAt": "2026-01-01T10:00:00Z",
        "ExpiresAt": "2026-01-01T11:00:00Z",
        "Caller": "arn:aws:iam::111122223333:user/alice\u{1b}[2J",
        "CallerUserId": "AIDAALICE", "CallerAccessKeyId": "AKIAAAAAAAAAAAAAAAAA",
        "ClientAddress": "10.0.0.1", "Username": "alice", "Profile": "prod-admin",
        "RoleArn": "arn:aws:iam::111122223333:role/TvmProdAdmin", "Rule": "prod",
        "Kind": "direct", "GrantId": null,
        "SourceIdentity": format!("tvm.alice.direct.{rid}"),
        "SessionName": format!("tvm-alice-{rid}"), "Status": status, "RevocationId": null
    }))
    .unwrap()
}

fn sample_revocation(target: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "Id": "0123456789abcdef", "Kind": "person", "Target": target,
        "Reason": "laptop stolen\u{202e}", "By": "arn:aws:iam::111122223333:user/sec/carol",
        "CreatedAt": "2026-01-01T10:00:00Z", "SuspendedUntil": null,
        "Sessions": ["ASIAAAAAAAAAAAAAAAA1"], "BlockedCallerKeys": ["AKIAAAAAAAAAAAAAAAAA"],
        "Roles": [{"RoleArn": "arn:aws:iam::111122223333:role/TvmProdAdmin", "Status": "manual",
                   "Error": null, "PolicyName": "tvm-revocations-tvm-prod",
                   "Policy": {"Version": "2012-10-17", "Statement": [{"Sid": "TvmRevokedSessionsProd",
                     "Effect": "Deny", "Action": "*", "Resource": "*",
                     "Condition": {"StringLike": {"aws:SourceIdentity": ["tvm.*.a2d43d42a691'; rm -rf /"]}}}]}}],
        "LiftedAt": null, "LiftedBy": null, "LiftReason": null
    })
}

#[test]
fn arg_names_a_key_id_or_a_request_id_and_nothing_else() {
    let rid = "a2d43d42a691";
    assert_eq!(
        parse_session_ref("ASIAAAAAAAAAAAAAAAA1"),
        Some(SessionRef::Key("ASIAAAAAAAAAAAAAAAA1".into()))
    );
    for r in [
        rid,
        "tvm.alice@example.com.direct.a2d43d42a691",
        "tvm.bob.apr-0123abcd.a2d43d42a691",
        "tvm-alice-a2d43d42a691",
    ] {
        assert_eq!(
            parse_session_ref(r),
            Some(SessionRef::Request(rid.into())),
            "{r}"
        );
    }
    for bad in [
        "",
        "AKIAAAAAAAAAAAAAAAA1",
        "asiaaaaaaaaaaaaaaaa1",
        "../sessions",
        "tvm.alice.a2d43d42a69",
        "x a2d43d42a691",
        "tvm.alice.direct.A2D43D42A691",
        "tvm.alicea2d43d42a691",
    ] {
        assert_eq!(parse_session_ref(bad), None, "{bad}");
    }
}

#[test]
fn a_request_id_resolves_to_its_one_live_session_or_is_a_conflict() {
    let rid = "a2d43d42a691";
    let list = vec![
        sample_session("ASIAAAAAAAAAAAAAAAA1", rid, "live"),
        sample_session("ASIAAAAAAAAAAAAAAAA2", rid, "revoked"),
        sample_session("ASIAAAAAAAAAAAAAAAA3", "000000000000", "live"),
    ];
    assert_eq!(
        pick_live(&list, rid).unwrap().unwrap().id,
        "ASIAAAAAAAAAAAAAAAA1"
    );
    assert!(pick_live(&list, "111111111111").unwrap().is_none());
    let mut two = list.clone();
    two.push(sample_session("ASIAAAAAAAAAAAAAAAA4", rid, "live"));
    let err = pick_live(&two, rid).unwrap_err();
    assert!(
        err.contains("409") && err.contains("ASIAAAAAAAAAAAAAAAA4"),
        "{err}"
    );
}

/// One way to spoil a good session.
type Mutation = Box<dyn Fn(&mut SessionInfo)>;

#[test]
fn a_session_with_a_bad_id_status_or_stamp_is_refused() {
    let good = sample_session("ASIAAAAAAAAAAAAAAAA1", "a2d43d42a691", "live");
    session(&good).unwrap();
    let bads: Vec<Mutation> = vec![
        Box::new(|s| s.id = "ASIA/../../x".into()),
        Box::new(|s| s.id = "ASIA\u{1b}[2JAAAAAAAAAAA".into()),
        Box::new(|s| s.request_id = "A2D43D42A691".into()),
        Box::new(|s| s.status = "live\u{7}".into()),
        Box::new(|s| s.kind = "root".into()),
        Box::new(|s| s.source_identity = "tvm.alice\n.x".into()),
        Box::new(|s| s.expires_at = "tomorrow".into()),
        Box::new(|s| s.profile = "x]\ncredential_process=sh".into()),
        Box::new(|s| s.grant_id = Some("0123".into())),
    ];
    for bad in bads {
        let mut s = good.clone();
        bad(&mut s);
        assert!(session(&s).is_err(), "{s:?}");
    }
    assert!(!is_access_key_id("ASIA"));
}

#[test]
fn a_revocation_needs_exactly_one_known_target_and_known_statuses() {
    let ok: RevocationInfo =
        serde_json::from_value(sample_revocation(serde_json::json!({"User": "alice"}))).unwrap();
    revocation(&ok).unwrap();
    for target in [
        serde_json::json!({}),
        serde_json::json!({"User": "a", "Principal": "b"}),
        serde_json::json!({"Everyone": "x"}),
        serde_json::json!({"SessionId": "not-a-key"}),
        serde_json::json!({"GrantId": "0123"}),
    ] {
        let r: RevocationInfo = serde_json::from_value(sample_revocation(target.clone())).unwrap();
        assert!(revocation(&r).is_err(), "{target}");
    }
    let mut bad = ok.clone();
    bad.roles[0].status = "applied\u{1b}[2J".into();
    assert!(revocation(&bad).is_err());
    let mut bad = ok.clone();
    bad.roles[0].policy_name = Some("x; rm -rf /".into());
    assert!(revocation(&bad).is_err());
}

#[test]
fn server_text_prints_escaped_and_the_shell_command_is_quoted() {
    let r: RevocationInfo = serde_json::from_value(sample_revocation(
        serde_json::json!({"User": "al\u{1b}]0;x\u{7}ice"}),
    ))
    .unwrap();
    let text = revocation_text(&r, false);
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(!text.contains('\u{202e}'), "{text}");
    assert!(text.contains("User al\\u{1b}]0;x\\u{7}ice"), "{text}");
    assert!(
        text.contains("aws iam put-role-policy --role-name TvmProdAdmin --policy-name tvm-revocations-tvm-prod --policy-document '{"),
        "{text}"
    );
    assert!(text.contains(r"a2d43d42a691'\''; rm -rf /"), "{text}");
    assert!(text.contains("organization SCP statement"), "{text}");
    let table = session_table(&[sample_session(
        "ASIAAAAAAAAAAAAAAAA1",
        "a2d43d42a691",
        "live",
    )]);
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "{table:?}"
    );
    assert_eq!(table.lines().count(), 2);
}

#[test]
fn durations_read_as_people_write_them() {
    assert_eq!(parse_duration_seconds("24h"), Some(86_400));
    assert_eq!(parse_duration_seconds("7d"), Some(604_800));
    assert_eq!(parse_duration_seconds("90m"), Some(5_400));
    assert_eq!(parse_duration_seconds("1h30m"), Some(5_400));
    for bad in ["", "0s", "-1h", "d", "soon", "1y"] {
        assert_eq!(parse_duration_seconds(bad), None, "{bad}");
    }
}

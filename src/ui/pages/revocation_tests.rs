//! The §13 pages' HTML: hostile stored text shown as text (markup escaped,
//! invisible and bidi characters as `\u{…}`), the admin-only columns, the
//! CSRF token and a labelled reason on every form, the navigation links.

use std::collections::BTreeMap;

use super::*;
use crate::revocation::{RevocationStatus, RevocationView, RoleView, SessionView};

const PROBE: &str = "<script>alert(1)</script>\u{202e}gnp.exe\u{200b}";
const PROBE_SHOWN: &str = r"&lt;script&gt;alert(1)&lt;/script&gt;\u{202e}gnp.exe\u{200b}";

fn who() -> SignedIn<'static> {
    SignedIn {
        arn: "arn:aws:iam::111122223333:user/sec/dave",
        csrf: "c0ffee",
    }
}

fn session(id: &str) -> SessionView {
    SessionView {
        id: id.into(),
        request_id: "a2d43d42a691".into(),
        created_at: "2026-01-01T10:00:00Z".into(),
        expires_at: "2026-01-01T11:00:00Z".into(),
        caller: format!("arn:aws:iam::111122223333:user/eng/{PROBE}"),
        caller_user_id: "AIDA".into(),
        caller_access_key_id: "AKIAEXAMPLE".into(),
        client_address: "127.0.0.1".into(),
        username: "bob".into(),
        profile: PROBE.into(),
        role_arn: "arn:aws:iam::111122223333:role/TvmReadOnly".into(),
        rule: None,
        kind: "approval".into(),
        grant_id: Some("\"><b>x".into()),
        source_identity: "tvm.bob.a2d43d42a691".into(),
        session_name: "tvm-bob".into(),
        status: "live",
        revocation_id: None,
    }
}

fn revocation() -> RevocationView {
    RevocationView {
        id: "0123456789abcdef".into(),
        kind: "person".into(),
        target: BTreeMap::from([("User".to_owned(), PROBE.to_owned())]),
        reason: PROBE.into(),
        by: "arn:aws:iam::111122223333:user/sec/dave".into(),
        created_at: "2026-01-01T10:00:00Z".into(),
        suspended_until: None,
        sessions: vec!["ASIAAAAAAAAAAAAAAAAA".into()],
        blocked_caller_keys: vec![],
        roles: vec![RoleView {
            role_arn: "arn:aws:iam::111122223333:role/TvmReadOnly".into(),
            status: "failed".into(),
            error: Some(format!("LimitExceeded {PROBE}")),
            policy: Some("{\"Statement\":\"</pre><script>\"}".into()),
            policy_name: None,
        }],
        lifted_at: None,
        lifted_by: None,
        lift_reason: None,
        advice: None,
        approved_grants: vec!["fedcba9876543210".into(), "<i>bad".into()],
    }
}

fn assert_safe(page: &str) {
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<b>") && !page.contains("<i>"), "{page}");
    for c in ['\u{202e}', '\u{200b}'] {
        assert!(!page.contains(c), "U+{:04X} raw in {page}", u32::from(c));
    }
    assert!(!page.contains("style="), "no inline style (CSP)");
    for nav in [
        "href=\"/ui/\"",
        "href=\"/ui/sessions\"",
        "href=\"/ui/revocations\"",
    ] {
        assert!(page.contains(nav), "{nav} in {page}");
    }
}

#[test]
fn the_sessions_page_shows_stored_text_as_text_and_a_form_per_session() {
    let list = [session("ASIAAAAAAAAAAAAAAAAA"), session("not-a-key\"><b>x")];
    let now = "2026-01-01T10:30:00Z".parse().unwrap();
    let page = sessions(
        &who(),
        &SessionsPage {
            sessions: &list,
            everyone: true,
        },
        now,
    )
    .into_string();
    assert_safe(&page);
    assert!(page.contains(PROBE_SHOWN), "{page}");
    assert!(page.contains("Every live session"), "{page}");
    // One revoke form, for the AccessKeyId-shaped id only; plus sign-out.
    assert_eq!(page.matches("action=\"/ui/sessions/").count(), 1, "{page}");
    assert!(page.contains("action=\"/ui/sessions/ASIAAAAAAAAAAAAAAAAA/revoke\""));
    assert!(page.contains("<label for=\"reason-ASIAAAAAAAAAAAAAAAAA\">"));
    assert!(page.contains("maxlength=\"1000\"") && page.contains("required"));
    assert_eq!(page.matches("name=\"csrf\" value=\"c0ffee\"").count(), 2);
    // A grant id that is not 16 hex never becomes a link.
    assert!(!page.contains("/ui/requests/\""), "{page}");
    assert!(!page.contains("End its grant"), "{page}");
    let mut granted = session("ASIABBBBBBBBBBBBBBBB");
    granted.grant_id = Some("fedcba9876543210".into());
    let page = sessions(
        &who(),
        &SessionsPage {
            sessions: std::slice::from_ref(&granted),
            everyone: true,
        },
        now,
    )
    .into_string();
    assert!(page.contains("action=\"/ui/requests/fedcba9876543210/revoke\""));
    assert!(page.contains("<label for=\"grant-reason-ASIABBBBBBBBBBBBBBBB\">"));
    assert_eq!(page.matches("name=\"csrf\" value=\"c0ffee\"").count(), 3);
    let own = sessions(
        &who(),
        &SessionsPage {
            sessions: &[],
            everyone: false,
        },
        now,
    )
    .into_string();
    assert!(own.contains("Your own live sessions") && own.contains("No live session."));
}

#[test]
fn a_revocation_shows_role_status_and_admin_only_details_to_admins_only() {
    let v = revocation();
    let admin = revocation_page(&v, true);
    assert_safe(&admin);
    assert!(admin.contains(PROBE_SHOWN), "{admin}");
    assert!(admin.contains("LimitExceeded"), "{admin}");
    assert!(admin.contains("&lt;/pre&gt;&lt;script&gt;"), "{admin}");
    assert!(admin.contains("class=\"role failed\""), "{admin}");
    assert!(admin.contains("action=\"/ui/revocations/0123456789abcdef/lift\""));
    assert!(admin.contains("<label for=\"lift-reason\">"));
    assert!(admin.contains("href=\"/ui/requests/fedcba9876543210\""));
    assert!(!admin.contains("/ui/requests/<"), "{admin}");

    // A non-admin: the service has redacted; the page shows no such column
    // and no lift form.
    let plain = revocation_page(&v.clone().redact(false), false);
    assert_safe(&plain);
    assert!(!plain.contains("LimitExceeded") && !plain.contains("Statement"));
    assert!(!plain.contains("/lift\""), "{plain}");
    assert!(plain.contains("class=\"role failed\""), "{plain}");

    let mut lifted = revocation();
    lifted.lifted_at = Some("2026-01-01T12:00:00Z".into());
    assert!(!revocation_page(&lifted, true).contains("/lift\""));
    // A revoked session or grant stays revoked: nothing to lift.
    for kind in ["session", "grant"] {
        let mut v = revocation();
        v.kind = kind.into();
        assert!(!revocation_page(&v, true).contains("/lift\""), "{kind}");
    }
}

fn revocation_page(v: &RevocationView, admin: bool) -> String {
    super::revocation(
        &who(),
        &RevocationPage {
            revocation: v,
            admin,
        },
    )
    .into_string()
}

#[test]
fn the_revocations_list_escapes_and_marks_the_filter() {
    let list = [revocation()];
    let page = revocations(&who(), &list, RevocationStatus::Lifted, false).into_string();
    assert_safe(&page);
    assert!(page.contains(PROBE_SHOWN), "{page}");
    assert!(page.contains("The revocations you made."));
    assert!(page.contains("<strong aria-current=\"page\">Lifted</strong>"));
    assert!(page.contains("href=\"/ui/revocations?status=active\""));
    assert!(page.contains("href=\"/ui/revocations/0123456789abcdef\""));
}

//! The HTML of the web page, server-rendered with maud: the layout (signed-in
//! ARN and logout on every page), the signed-out page (the `tvm ui` command to
//! run), the sign-in button, the list of pending requests with the grants in
//! force and recent break-glass uses, a request's page with its audit trail
//! and the approve/deny form, and errors.
//!
//! Invariants: every value is interpolated through maud's escaping (no
//! `PreEscaped` anywhere), so a reason or comment is text, never markup;
//! every stored value goes through `layout::shown` first, so characters a reader
//! cannot see (bidi controls, zero-width, line separators) show as `\u{…}`; no
//! page has a script or inline style (the CSP forbids both); every form carries
//! the session's CSRF token (the sign-in form carries the login nonce); every
//! input has a label.
//!
//! Layout: `layout` (the frame, the error page, how values are shown),
//! `sign_in` (the pages before a session), `overview` (`GET /ui/`, with
//! `break_glass` its list of break-glass uses), `detail` (a request's page),
//! `sessions` (`GET /ui/sessions`), `revocations` (`GET /ui/revocations[/{id}]`).

mod break_glass;
mod detail;
mod layout;
mod overview;
mod revocations;
mod sessions;
mod sign_in;

pub(crate) use detail::{detail, Detail};
pub(crate) use layout::{error, SignedIn, STYLESHEET_PATH};
pub(crate) use overview::{overview, Overview};
pub(crate) use revocations::{revocation, revocations, RevocationPage};
pub(crate) use sessions::{sessions, SessionsPage};
pub(crate) use sign_in::{sign_in, signed_out};

#[cfg(test)]
mod revocation_tests;

#[cfg(test)]
mod tests {
    use super::layout::duration_text;
    use super::*;
    use crate::approvals::{ApprovalView, RequestView};
    use crate::ui::view::BreakGlassUse;

    fn request(reason: &str) -> RequestView {
        RequestView {
            id: "0123456789abcdef".into(),
            status: "pending",
            profile: "prod-admin".into(),
            requester: "arn:aws:iam::111122223333:user/demo/alice".into(),
            reason: reason.into(),
            duration_seconds: 1800,
            created_at: "2026-01-01T10:00:00Z".into(),
            expires_at: "2026-01-02T10:00:00Z".into(),
            approvals: vec![ApprovalView {
                approver: "arn:aws:iam::111122223333:user/demo/carol".into(),
                comment: "<b>ok</b>".into(),
                at: "2026-01-01T10:05:00Z".into(),
            }],
            grant_expires_at: None,
        }
    }

    const PROBE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";

    #[test]
    fn reasons_and_comments_render_as_text() {
        let who = SignedIn {
            arn: "arn:aws:iam::111122223333:user/demo/bob",
            csrf: "c0ffee",
        };
        let r = request(PROBE);
        let now = "2026-01-01T12:00:00Z".parse().unwrap();
        let pages = [
            overview(
                &who,
                &Overview {
                    to_review: std::slice::from_ref(&r),
                    own: &[],
                    grants: &[],
                    break_glass: &[],
                },
                now,
            )
            .into_string(),
            detail(
                &who,
                &Detail {
                    request: &r,
                    audit: &[],
                    vends: &[],
                    can_decide: true,
                    can_revoke: false,
                },
                now,
            )
            .into_string(),
        ];
        for page in pages {
            assert!(!page.contains("<script"), "{page}");
            assert!(!page.contains("<img"), "{page}");
            assert!(!page.contains("<b>"), "{page}");
            assert!(
                page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{page}"
            );
            assert!(page.contains("arn:aws:iam::111122223333:user/demo/bob"));
            assert!(page.contains("name=\"csrf\" value=\"c0ffee\""));
            assert!(!page.contains("style="), "no inline style (CSP)");
        }
    }

    #[test]
    fn invisible_and_bidi_characters_show_as_escapes() {
        let who = SignedIn {
            arn: "arn:aws:iam::111122223333:user/demo/bob",
            csrf: "c0ffee",
        };
        let mut r = request("ok\u{202e}gnp.exe\u{2028}BREAK-GLASS\u{0}\u{3164}");
        r.approvals[0].comment = "fine\u{2066}x".into();
        let uses = [BreakGlassUse {
            caller: "arn:aws:iam::111122223333:user/demo/alice".into(),
            profile: "prod-admin".into(),
            reason: "db\u{200b}down\u{85}".into(),
            duration_seconds: 900,
            at: "2026-01-01T10:00:00Z".into(),
        }];
        let now = "2026-01-01T12:00:00Z".parse().unwrap();
        let list = overview(
            &who,
            &Overview {
                to_review: std::slice::from_ref(&r),
                own: &[],
                grants: &[],
                break_glass: &uses,
            },
            now,
        )
        .into_string();
        let one = detail(
            &who,
            &Detail {
                request: &r,
                audit: &[],
                vends: &[],
                can_decide: false,
                can_revoke: false,
            },
            now,
        )
        .into_string();
        for page in [&list, &one] {
            for c in [
                '\u{202e}', '\u{2028}', '\0', '\u{3164}', '\u{2066}', '\u{200b}', '\u{85}',
            ] {
                assert!(!page.contains(c), "U+{:04X} raw in {page}", u32::from(c));
            }
        }
        assert!(
            one.contains(r"ok\u{202e}gnp.exe\u{2028}BREAK-GLASS\u{0}\u{3164}"),
            "{one}"
        );
        assert!(one.contains(r"fine\u{2066}x"), "{one}");
        assert!(list.contains(r"db\u{200b}down\u{85}"), "{list}");
    }

    #[test]
    fn every_input_has_a_label_and_forms_carry_csrf() {
        let who = SignedIn {
            arn: "arn:aws:iam::1:user/b",
            csrf: "tok",
        };
        let page = detail(
            &who,
            &Detail {
                request: &request("x"),
                audit: &[],
                vends: &[],
                can_decide: true,
                can_revoke: true,
            },
            jiff::Timestamp::UNIX_EPOCH,
        )
        .into_string();
        assert!(page.contains("<label for=\"comment\">"));
        assert!(page.contains("<label for=\"revoke-reason\">"));
        assert!(page.contains("action=\"/ui/requests/0123456789abcdef/revoke\""));
        assert_eq!(page.matches("<form").count(), 3);
        assert_eq!(page.matches("name=\"csrf\" value=\"tok\"").count(), 3);
        let page = detail(
            &who,
            &Detail {
                request: &request("x"),
                audit: &[],
                vends: &[],
                can_decide: false,
                can_revoke: false,
            },
            jiff::Timestamp::UNIX_EPOCH,
        )
        .into_string();
        assert!(!page.contains("id=\"approve\""));
        assert!(!page.contains("/revoke\""));
    }

    #[test]
    fn the_signed_out_page_names_the_command() {
        let page = signed_out("https://tvm.example.com", Some("0123456789abcdef")).into_string();
        assert!(page.contains("tvm ui --url https://tvm.example.com --request 0123456789abcdef"));
        let login = sign_in("c0de", "n0nce").into_string();
        assert!(login.contains("name=\"code\" value=\"c0de\""));
        assert!(login.contains("name=\"login\" value=\"n0nce\""));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(45), "45s");
        assert_eq!(duration_text(900), "15m");
        assert_eq!(duration_text(3600), "1h");
        assert_eq!(duration_text(5400), "1h 30m");
        assert_eq!(duration_text(90), "1m 30s");
    }
}

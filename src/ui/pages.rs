//! The HTML of the web page, server-rendered with maud: the layout (signed-in
//! ARN and logout on every page), the signed-out page (the `tvm ui` command to
//! run), the sign-in button, the list of pending requests with the grants in
//! force and recent break-glass uses, a request's page with its audit trail
//! and the approve/deny form, and errors.
//!
//! Invariants: every value is interpolated through maud's escaping (no
//! `PreEscaped` anywhere), so a reason or comment is text, never markup;
//! every stored value goes through [`shown`] first, so characters a reader
//! cannot see (bidi controls, zero-width, line separators) show as `\u{…}`; no
//! page has a script or inline style (the CSP forbids both); every form carries
//! the session's CSRF token (the sign-in form carries the login nonce); every
//! input has a label.

use std::borrow::Cow;

use maud::{html, Markup, DOCTYPE};

use super::view::{AuditEntry, BreakGlassUse};
use crate::approvals::RequestView;

/// Caller-written text as the page shows it: every control, line or
/// paragraph separator, bidi control, zero-width or filler character as a
/// visible `\u{…}` ([`crate::approvals::display`]); maud then escapes HTML.
fn shown(s: &str) -> Cow<'_, str> {
    crate::approvals::display(s)
}

/// Where the stylesheet is served.
pub(crate) const STYLESHEET_PATH: &str = "/ui/static/tvm.css";

/// Who is signed in, for the layout.
pub(crate) struct SignedIn<'a> {
    /// The STS ARN the session was made for.
    pub(crate) arn: &'a str,
    /// The session's CSRF token.
    pub(crate) csrf: &'a str,
}

fn layout(title: &str, who: Option<&SignedIn<'_>>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · tvm approvals" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href="/ui/" { "tvm approvals" }
                    @if let Some(who) = who {
                        div class="who" {
                            span { "Signed in as " }
                            code id="signed-in-arn" { (shown(who.arn)) }
                            form method="post" action="/ui/logout" class="inline" {
                                input type="hidden" name="csrf" value=(who.csrf);
                                button type="submit" class="link" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The page a link opens without a session: the command that signs in.
pub(crate) fn signed_out(base: &str, request: Option<&str>) -> Markup {
    let command = match request {
        Some(id) => format!("tvm ui --url {base} --request {id}"),
        None => format!("tvm ui --url {base}"),
    };
    layout(
        "Sign in with your AWS identity",
        None,
        html! {
            p { "You are not signed in. A browser cannot prove your AWS identity, so signing in starts on your workstation. Run:" }
            pre { code id="sign-in-command" { (command) } }
            p { "It prints a one-time link (valid for 60 seconds) and opens it here." }
        },
    )
}

/// `GET /ui/login?code=…`: only a button; the POST spends the code.
pub(crate) fn sign_in(code: &str, nonce: &str) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            p { "Continue as the AWS identity that ran " code { "tvm ui" } ". This link works once, within 60 seconds of being made." }
            p id="own-link" { "Sign in only with a link you made yourself with " code { "tvm ui" } ": this page cannot tell whose link it is, and a link someone sent you would sign you in as them." }
            form method="post" action="/ui/login" {
                input type="hidden" name="code" value=(code);
                input type="hidden" name="login" value=(nonce);
                button type="submit" id="sign-in" { "Sign in" }
            }
        },
    )
}

/// The account field of an ARN (`arn:P:svc::ACCOUNT:…`).
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// `1h 30m`, `15m`, `45s`.
pub(crate) fn duration_text(secs: u64) -> String {
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) if h > 0 => format!("{h}h {m}m"),
        (_, m, s) => format!("{m}m {s}s"),
    }
}

/// How long ago the RFC 3339 time `t` was, at `now`.
pub(crate) fn age_text(t: &str, now: jiff::Timestamp) -> String {
    match t.parse::<jiff::Timestamp>() {
        Ok(then) => format!(
            "{} ago",
            duration_text(now.as_second().saturating_sub(then.as_second()).max(0) as u64)
        ),
        Err(_) => "-".into(),
    }
}

/// The pending list, the grants in force and the recent break-glass uses.
pub(crate) struct Overview<'a> {
    /// Pending requests this approver may act on.
    pub(crate) to_review: &'a [RequestView],
    /// The approver's own pending requests.
    pub(crate) own: &'a [RequestView],
    /// Approved requests whose grant is still usable.
    pub(crate) grants: &'a [RequestView],
    /// Recent break-glass vends.
    pub(crate) break_glass: &'a [BreakGlassUse],
}

fn requests_table(id: &str, caption: &str, list: &[RequestView], now: jiff::Timestamp) -> Markup {
    html! {
        div class="scroll" {
            table id=(id) {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Requester" }
                    th scope="col" { "Account" }
                    th scope="col" { "Profile" }
                    th scope="col" { "Duration" }
                    th scope="col" { "Reason" }
                    th scope="col" { "Age" }
                    th scope="col" { "Approvals" }
                } }
                tbody {
                    @for r in list {
                        tr {
                            td { code { (shown(&r.requester)) } }
                            td { (shown(account_of(&r.requester))) }
                            td { a href={ "/ui/requests/" (r.id) } { (shown(&r.profile)) } }
                            td { (duration_text(u64::from(r.duration_seconds))) }
                            td class="reason" { (shown(&r.reason)) }
                            td { (age_text(&r.created_at, now)) }
                            td { (r.approvals.len()) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /ui/`.
pub(crate) fn overview(who: &SignedIn<'_>, o: &Overview<'_>, now: jiff::Timestamp) -> Markup {
    layout(
        "Pending requests",
        Some(who),
        html! {
            @if o.to_review.is_empty() {
                p id="nothing-to-review" { "Nothing waits for your approval." }
            } @else {
                (requests_table("to-review", "Waiting for your decision (open a profile to review it)", o.to_review, now))
            }
            @if !o.own.is_empty() {
                h2 { "Your own pending requests" }
                p { "Someone else must approve these." }
                (requests_table("own", "Your requests", o.own, now))
            }
            h2 { "Grants in force" }
            @if o.grants.is_empty() {
                p { "No approved request has a usable grant." }
            } @else {
                div class="scroll" {
                    table id="grants" {
                        caption { "Approved requests whose grant may still be used" }
                        thead { tr {
                            th scope="col" { "Requester" }
                            th scope="col" { "Profile" }
                            th scope="col" { "Until" }
                            th scope="col" { "Approved by" }
                        } }
                        tbody {
                            @for g in o.grants {
                                tr {
                                    td { code { (shown(&g.requester)) } }
                                    td { a href={ "/ui/requests/" (g.id) } { (shown(&g.profile)) } }
                                    td { (g.grant_expires_at.as_deref().unwrap_or("-")) }
                                    td { @for a in &g.approvals { code { (shown(&a.approver)) } " " } }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Recent break-glass uses" }
            @if o.break_glass.is_empty() {
                p { "None in the last seven days." }
            } @else {
                div class="scroll" {
                    table id="break-glass" {
                        caption { "Break-glass vends of the last seven days, newest first" }
                        thead { tr {
                            th scope="col" { "When" }
                            th scope="col" { "Who" }
                            th scope="col" { "Profile" }
                            th scope="col" { "Duration" }
                            th scope="col" { "Reason" }
                        } }
                        tbody {
                            @for b in o.break_glass {
                                tr {
                                    td { (b.at) }
                                    td { code { (shown(&b.caller)) } }
                                    td { (shown(&b.profile)) }
                                    td { (duration_text(b.duration_seconds)) }
                                    td class="reason" { (shown(&b.reason)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// What a request's page shows besides the request.
pub(crate) struct Detail<'a> {
    /// The request.
    pub(crate) request: &'a RequestView,
    /// Its audit trail, oldest first.
    pub(crate) audit: &'a [AuditEntry],
    /// The vends made under its grant: (HTTP request id, SourceIdentity).
    pub(crate) vends: &'a [(String, String)],
    /// The signed-in approver may decide it (pending, and not their own).
    pub(crate) can_decide: bool,
}

/// `GET /ui/requests/{id}`.
pub(crate) fn detail(who: &SignedIn<'_>, d: &Detail<'_>, now: jiff::Timestamp) -> Markup {
    let r = d.request;
    layout(
        &format!("Request for {}", shown(&r.profile)),
        Some(who),
        html! {
            dl class="facts" {
                dt { "Status" } dd { span id="status" class={ "status " (r.status) } { (r.status) } }
                dt { "Requester" } dd { code { (shown(&r.requester)) } }
                dt { "Account" } dd { (shown(account_of(&r.requester))) }
                dt { "Profile" } dd { (shown(&r.profile)) }
                dt { "Duration" } dd { (duration_text(u64::from(r.duration_seconds))) }
                dt { "Reason" } dd id="reason" class="reason" { (shown(&r.reason)) }
                dt { "Requested" } dd { (r.created_at) " (" (age_text(&r.created_at, now)) ")" }
                dt { "Expires" } dd { (r.expires_at) }
                @if let Some(g) = &r.grant_expires_at {
                    dt { "Grant until" } dd { (g) }
                }
                dt { "Request id" } dd { code { (r.id) } }
            }
            h2 { "Approvals" }
            @if r.approvals.is_empty() {
                p { "None yet." }
            } @else {
                ul id="approvals" {
                    @for a in &r.approvals {
                        li { code { (shown(&a.approver)) } " at " (a.at) @if !a.comment.is_empty() { ": " span class="comment" { (shown(&a.comment)) } } }
                    }
                }
            }
            @if d.can_decide {
                h2 { "Your decision" }
                form method="post" action={ "/ui/requests/" (r.id) } class="decide" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    label for="comment" { "Comment (recorded with your decision)" }
                    textarea id="comment" name="comment" rows="3" maxlength="1000" {}
                    div class="buttons" {
                        button type="submit" name="decision" value="approve" id="approve" class="approve" { "Approve" }
                        button type="submit" name="decision" value="deny" id="deny" class="deny" { "Deny" }
                    }
                }
            }
            h2 { "Audit trail" }
            div class="scroll" {
                table id="audit" {
                    caption { "Every change to this request, oldest first" }
                    thead { tr {
                        th scope="col" { "When" }
                        th scope="col" { "What" }
                        th scope="col" { "Who" }
                        th scope="col" { "HTTP request id" }
                    } }
                    tbody {
                        @for e in d.audit {
                            tr {
                                td { (e.at) }
                                td { (e.action) }
                                td { code { (shown(&e.actor)) } }
                                td { code { (e.http_request_id) } }
                            }
                        }
                    }
                }
            }
            @if !d.vends.is_empty() {
                h2 { "Vends under this grant" }
                ul id="vends" {
                    @for (rid, si) in d.vends {
                        li { code { (shown(si)) } " (request " code { (shown(rid)) } ")" }
                    }
                }
            }
            p { a href="/ui/" { "Back to the pending requests" } }
        },
    )
}

/// An error page with a short, fixed explanation.
pub(crate) fn error(title: &str, explanation: &str, who: Option<&SignedIn<'_>>) -> Markup {
    layout(
        title,
        who,
        html! {
            p id="error" { (explanation) }
            p { a href="/ui/" { "Back to the pending requests" } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::ApprovalView;

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
            },
            jiff::Timestamp::UNIX_EPOCH,
        )
        .into_string();
        assert!(page.contains("<label for=\"comment\">"));
        assert_eq!(page.matches("<form").count(), 2);
        assert_eq!(page.matches("name=\"csrf\" value=\"tok\"").count(), 2);
        let page = detail(
            &who,
            &Detail {
                request: &request("x"),
                audit: &[],
                vends: &[],
                can_decide: false,
            },
            jiff::Timestamp::UNIX_EPOCH,
        )
        .into_string();
        assert!(!page.contains("id=\"approve\""));
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

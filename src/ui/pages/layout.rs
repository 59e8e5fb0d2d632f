//! What every page shares: the layout (the signed-in ARN, the sign-out
//! form and the links to Requests, Sessions and Revocations on every page), the error page, and how values are shown — caller
//! text through [`shown`], durations and ages in words, an ARN's account.
//!
//! Invariants: every stored value goes through [`shown`] before maud escapes
//! it, so characters a reader cannot see show as `\u{…}`; the layout has no
//! script or inline style and sends no referrer; the sign-out form carries the
//! session's CSRF token.

use std::borrow::Cow;

use maud::{html, Markup, DOCTYPE};

/// Caller-written text as the page shows it: every control, line or
/// paragraph separator, bidi control, zero-width or filler character as a
/// visible `\u{…}` ([`crate::approvals::display`]); maud then escapes HTML.
pub(super) fn shown(s: &str) -> Cow<'_, str> {
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

/// Every page: the head (stylesheet, no referrer), the signed-in ARN and the
/// sign-out form when signed in, the title and `body`.
pub(super) fn layout(title: &str, who: Option<&SignedIn<'_>>, body: Markup) -> Markup {
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
                    @if who.is_some() {
                        nav class="sections" aria-label="Sections" {
                            a href="/ui/" { "Requests" }
                            a href="/ui/sessions" { "Sessions" }
                            a href="/ui/revocations" { "Revocations" }
                        }
                    }
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

/// An error page with a short, fixed explanation.
pub(crate) fn error(title: &str, explanation: &str, who: Option<&SignedIn<'_>>) -> Markup {
    layout(
        title,
        who,
        html! {
            p id="error" { (explanation) }
            p { a href="/ui/" { "Back to the requests" } }
        },
    )
}

/// The account field of an ARN (`arn:P:svc::ACCOUNT:…`).
pub(super) fn account_of(arn: &str) -> &str {
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

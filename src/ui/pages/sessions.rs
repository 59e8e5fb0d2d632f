//! `GET /ui/sessions`: live sessions — the viewer's own, everyone's for an
//! admin — each with a revoke form that requires a reason, and for a session
//! vended under a grant a form that ends the grant (how an admin reaches a
//! grant whose request page the approvals rules do not show them).
//!
//! Invariants: every stored value goes through [`shown`]; a form is offered
//! only for an id of the AccessKeyId shape (so no stored text reaches a URL),
//! and a grant links to its request only by a 16-hex id; every form carries
//! the session's CSRF token and a labelled reason of 1..=1,000 characters
//! (the service checks again).

use maud::{html, Markup};

use super::layout::{age_text, layout, shown, SignedIn};
use crate::database::is_id;
use crate::policy::MAX_REASON_CHARS;
use crate::revocation::{is_access_key_id, SessionView};

/// What the sessions page shows.
pub(crate) struct SessionsPage<'a> {
    /// Live sessions, newest first.
    pub(crate) sessions: &'a [SessionView],
    /// Whether they are everyone's (an admin) or the viewer's own.
    pub(crate) everyone: bool,
}

/// The revoke form of one session (a reason, then the button).
pub(super) fn reason_form(action: &str, field: &str, button: &str, csrf: &str) -> Markup {
    html! {
        form method="post" action=(action) class="revoke" {
            input type="hidden" name="csrf" value=(csrf);
            label for=(field) { "Reason" }
            input type="text" id=(field) name="reason" required minlength="1" maxlength=(MAX_REASON_CHARS);
            button type="submit" class="deny" { (button) }
        }
    }
}

/// `GET /ui/sessions`.
pub(crate) fn sessions(who: &SignedIn<'_>, p: &SessionsPage<'_>, now: jiff::Timestamp) -> Markup {
    layout(
        "Sessions",
        Some(who),
        html! {
            p id="scope" {
                @if p.everyone {
                    "Every live session (you are an admin). Revoking one ends it in AWS and at tvm."
                } @else {
                    "Your own live sessions. Revoking one ends it in AWS and at tvm."
                }
            }
            @if p.sessions.is_empty() {
                p id="no-sessions" { "No live session." }
            } @else {
                div class="scroll" {
                    table id="sessions" {
                        caption { "Live sessions, newest first" }
                        thead { tr {
                            th scope="col" { "Session" }
                            th scope="col" { "Caller" }
                            th scope="col" { "Profile" }
                            th scope="col" { "Kind" }
                            th scope="col" { "Vended" }
                            th scope="col" { "Expires" }
                            th scope="col" { "From" }
                            th scope="col" { "Revoke" }
                        } }
                        tbody {
                            @for s in p.sessions {
                                tr {
                                    td { code class="session-id" { (shown(&s.id)) } }
                                    td { code { (shown(&s.caller)) } }
                                    td { (shown(&s.profile)) br; code { (shown(&s.role_arn)) } }
                                    td {
                                        (shown(&s.kind))
                                        @if let Some(g) = s.grant_id.as_deref().filter(|g| is_id(g)) {
                                            " " a href={ "/ui/requests/" (g) } { "grant" }
                                        }
                                    }
                                    td { (age_text(&s.created_at, now)) }
                                    td { (shown(&s.expires_at)) }
                                    td { code { (shown(&s.client_address)) } }
                                    td {
                                        @if is_access_key_id(&s.id) {
                                            (reason_form(
                                                &format!("/ui/sessions/{}/revoke", s.id),
                                                &format!("reason-{}", s.id),
                                                "Revoke",
                                                who.csrf,
                                            ))
                                            @if let Some(g) = s.grant_id.as_deref().filter(|g| is_id(g)) {
                                                (reason_form(
                                                    &format!("/ui/requests/{g}/revoke"),
                                                    &format!("grant-reason-{}", s.id),
                                                    "End its grant",
                                                    who.csrf,
                                                ))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

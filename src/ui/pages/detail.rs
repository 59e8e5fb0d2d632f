//! `GET /ui/requests/{id}`: a request's facts, its approvals, the decision
//! form (when this approver may decide), the revoke form of a granted
//! request (its requester or an admin, DESIGN §13), its audit trail and the
//! vends made under its grant.
//!
//! Invariants: every caller-written value goes through [`shown`]; the
//! decision and revoke forms carry the session's CSRF token; the decision
//! form is shown only when the approvals service says this approver may
//! decide, the revoke form only on a granted request (each service checks
//! again on the POST).

use maud::{html, Markup};

use super::layout::{account_of, age_text, duration_text, layout, shown, SignedIn};
use super::sessions::reason_form;
use crate::approvals::RequestView;
use crate::ui::view::AuditEntry;

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
    /// A granted (approved, unexpired) request the viewer may end: its
    /// requester or an admin (the revocation service checks again).
    pub(crate) can_revoke: bool,
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
            @if d.can_revoke {
                h2 { "End this grant" }
                p { "Revoking the grant stops further vends under it and revokes its live sessions." }
                (reason_form(&format!("/ui/requests/{}/revoke", r.id), "revoke-reason", "Revoke grant", who.csrf))
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

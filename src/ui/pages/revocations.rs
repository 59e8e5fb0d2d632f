//! `GET /ui/revocations` (the revocations the viewer may see: their own,
//! everyone's for admins) and `GET /ui/revocations/{id}` (one revocation:
//! target, sessions, blocked keys, per-role IAM status, and the lift form
//! for admins).
//!
//! Invariants: every stored value — reason, target, `By`, role ARNs, IAM's
//! error, the derived document — goes through [`shown`]; a role's `Error`
//! and `Policy` are shown only to admins (the service has already redacted
//! them for anyone else); a revocation links to its page only by a 16-hex
//! id; the lift form is offered only where a lift could end something (a
//! key block, a suspension) and carries the session's CSRF token (the service decides
//! who may lift: admins, never one's own).

use maud::{html, Markup};

use super::layout::{layout, shown, SignedIn};
use super::sessions::reason_form;
use crate::database::is_id;
use crate::revocation::{RevocationStatus, RevocationView, RoleView};

/// What a revocation's page shows.
pub(crate) struct RevocationPage<'a> {
    /// The revocation (redacted for a non-admin by the service).
    pub(crate) revocation: &'a RevocationView,
    /// The viewer is an admin now (the lift form, `Error` and `Policy`).
    pub(crate) admin: bool,
}

/// `Key: value` of a revocation's one target.
fn target_text(v: &RevocationView) -> Markup {
    html! {
        @for (k, t) in &v.target {
            (shown(k)) ": " code { (shown(t)) }
        }
    }
}

/// A revocation's link (only for a 16-hex id).
fn link(v: &RevocationView) -> Markup {
    html! {
        @if is_id(&v.id) {
            a href={ "/ui/revocations/" (v.id) } { code { (v.id) } }
        } @else {
            code { (shown(&v.id)) }
        }
    }
}

/// The per-role status, short: `Status` of each role.
fn roles_summary(roles: &[RoleView]) -> Markup {
    html! {
        @for r in roles {
            span class={ "role " (status_class(&r.status)) } { (shown(&r.status)) } " "
        }
    }
}

/// A status as a CSS class: one of the known words, else `other`.
fn status_class(s: &str) -> &'static str {
    match s {
        "pending" => "pending",
        "applied" => "applied",
        "failed" => "failed",
        "manual" => "manual",
        "skipped" => "skipped",
        "expired" => "expired",
        _ => "other",
    }
}

/// Whether a lift could end something: a `credentials` revocation's key
/// block or a `person` revocation's suspension, not lifted yet (a revoked
/// session or grant stays revoked: nothing to lift; the service decides).
fn liftable(v: &RevocationView) -> bool {
    matches!(v.kind.as_str(), "credentials" | "person") && v.lifted_at.is_none() && is_id(&v.id)
}

const FILTERS: [(&str, &str, RevocationStatus); 3] = [
    ("Active", "active", RevocationStatus::Active),
    ("Lifted", "lifted", RevocationStatus::Lifted),
    ("All", "all", RevocationStatus::All),
];

/// `GET /ui/revocations`.
pub(crate) fn revocations(
    who: &SignedIn<'_>,
    list: &[RevocationView],
    status: RevocationStatus,
    admin: bool,
) -> Markup {
    layout(
        "Revocations",
        Some(who),
        html! {
            p id="scope" {
                @if admin { "Every revocation (you are an admin)." } @else { "The revocations you made." }
            }
            nav class="filters" aria-label="Which revocations" {
                @for (label, value, s) in FILTERS {
                    @if s == status {
                        strong aria-current="page" { (label) } " "
                    } @else {
                        a href={ "/ui/revocations?status=" (value) } { (label) } " "
                    }
                }
            }
            @if list.is_empty() {
                p id="no-revocations" { "None." }
            } @else {
                div class="scroll" {
                    table id="revocations" {
                        caption { "Newest first" }
                        thead { tr {
                            th scope="col" { "Id" }
                            th scope="col" { "Kind" }
                            th scope="col" { "Target" }
                            th scope="col" { "Reason" }
                            th scope="col" { "By" }
                            th scope="col" { "When" }
                            th scope="col" { "Roles" }
                            th scope="col" { "Lifted" }
                        } }
                        tbody {
                            @for v in list {
                                tr {
                                    td { (link(v)) }
                                    td { (shown(&v.kind)) }
                                    td { (target_text(v)) }
                                    td class="reason" { (shown(&v.reason)) }
                                    td { code { (shown(&v.by)) } }
                                    td { (shown(&v.created_at)) }
                                    td { (roles_summary(&v.roles)) }
                                    td { (shown(v.lifted_at.as_deref().unwrap_or("-"))) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `GET /ui/revocations/{id}`.
pub(crate) fn revocation(who: &SignedIn<'_>, p: &RevocationPage<'_>) -> Markup {
    let v = p.revocation;
    layout(
        &format!("Revocation {}", shown(&v.id)),
        Some(who),
        html! {
            dl class="facts" {
                dt { "Kind" } dd id="kind" { (shown(&v.kind)) }
                dt { "Target" } dd id="target" { (target_text(v)) }
                dt { "Reason" } dd id="reason" class="reason" { (shown(&v.reason)) }
                dt { "By" } dd { code id="by" { (shown(&v.by)) } }
                dt { "When" } dd { (shown(&v.created_at)) }
                @if let Some(u) = &v.suspended_until {
                    dt { "Suspended until" } dd { (shown(u)) }
                }
                @if let Some(l) = &v.lifted_at {
                    dt { "Lifted" } dd id="lifted" { (shown(l)) }
                    dt { "Lifted by" } dd { code { (shown(v.lifted_by.as_deref().unwrap_or("-"))) } }
                    dt { "Lift reason" } dd class="reason" { (shown(v.lift_reason.as_deref().unwrap_or(""))) }
                }
            }
            @if let Some(a) = &v.advice {
                p id="advice" class="advice" { strong { "To do: " } (shown(a)) }
            }
            h2 { "Roles in AWS" }
            @if v.roles.is_empty() {
                p { "No role to update." }
            } @else {
                div class="scroll" {
                    table id="roles" {
                        caption { "The deny each role's policy must carry, and where it stands" }
                        thead { tr {
                            th scope="col" { "Role" }
                            th scope="col" { "Status" }
                            @if p.admin { th scope="col" { "Error" } th scope="col" { "Policy" } }
                        } }
                        tbody {
                            @for r in &v.roles {
                                tr {
                                    td { code { (shown(&r.role_arn)) } }
                                    td { span class={ "role " (status_class(&r.status)) } { (shown(&r.status)) } }
                                    @if p.admin {
                                        td class="reason" { (shown(r.error.as_deref().unwrap_or(""))) }
                                        td { @if let Some(doc) = &r.policy { pre { (shown(doc)) } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Sessions revoked" }
            @if v.sessions.is_empty() { p { "None." } } @else {
                ul id="revoked-sessions" { @for s in &v.sessions { li { code { (shown(s)) } } } }
            }
            @if !v.blocked_caller_keys.is_empty() {
                h2 { "Caller keys blocked" }
                ul id="blocked-keys" { @for k in &v.blocked_caller_keys { li { code { (shown(k)) } } } }
            }
            @if !v.approved_grants.is_empty() {
                h2 { "Grants this person approved (not revoked: review them)" }
                ul id="approved-grants" {
                    @for g in &v.approved_grants {
                        li { @if is_id(g) { a href={ "/ui/requests/" (g) } { code { (g) } } } @else { code { (shown(g)) } } }
                    }
                }
            }
            @if p.admin && liftable(v) {
                h2 { "Lift" }
                p { "Lifting ends a suspension or a key block; revoked sessions and grants stay revoked." }
                (reason_form(&format!("/ui/revocations/{}/lift", v.id), "lift-reason", "Lift", who.csrf))
            }
            p { a href="/ui/revocations" { "Back to the revocations" } }
        },
    )
}

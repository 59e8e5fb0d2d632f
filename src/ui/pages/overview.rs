//! `GET /ui/`: the requests waiting for this approver, their own pending
//! requests, the grants in force and the recent break-glass uses.
//!
//! Invariants: every caller-written value goes through [`shown`]; a request
//! links to its own page by its id (16 hex, never caller text).

use maud::{html, Markup};

use super::break_glass::break_glass_table;
use super::layout::{account_of, age_text, duration_text, layout, shown, SignedIn};
use crate::approvals::RequestView;
use crate::ui::view::BreakGlassUse;

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

/// A table of requests, each linking to its page.
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
            (break_glass_table(o.break_glass))
        },
    )
}

//! The overview's list of recent break-glass uses (DESIGN §12: every use is
//! visible to approvers), newest first.
//!
//! Invariant: the caller, profile and reason go through [`shown`]; the list
//! says so when it is empty rather than showing an empty table.

use maud::{html, Markup};

use super::layout::{duration_text, shown};
use crate::ui::view::BreakGlassUse;

/// The break-glass uses of the overview's window.
pub(super) fn break_glass_table(uses: &[BreakGlassUse]) -> Markup {
    html! {
        @if uses.is_empty() {
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
                        @for b in uses {
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
    }
}

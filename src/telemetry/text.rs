//! Caller-written text made safe to show on one line: in log lines (the
//! audit line), on the web page and in webhooks (through
//! `crate::approvals::text`).
//!
//! Invariants: [`is_hidden`] is the one definition of a character a reader
//! cannot see or that changes how the text around it reads: controls (C0,
//! C1, DEL, NUL), format characters (bidi controls, zero-width characters,
//! soft hyphen, tags), line and paragraph separators, and the fillers that
//! render blank although Unicode calls them letters or symbols
//! ([`FILLERS`]); [`display`] shows every hidden character as `\u{…}`, so
//! what a person reads is what was sent, on one line, and no value can start
//! a forged log line.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Characters that render as blank space although their category is letter
/// or symbol: the Hangul fillers (Default_Ignorable letters) and the blank
/// Braille pattern.
pub const FILLERS: [char; 5] = [
    '\u{115F}', // HANGUL CHOSEONG FILLER
    '\u{1160}', // HANGUL JUNGSEONG FILLER
    '\u{3164}', // HANGUL FILLER
    '\u{FFA0}', // HALFWIDTH HANGUL FILLER
    '\u{2800}', // BRAILLE PATTERN BLANK
];

/// Whether `c` is invisible or changes how the surrounding text reads (see
/// the module invariants). U+0085, U+2028 and U+2029 are line breaks; the
/// bidi controls (U+061C, U+200E/F, U+202A–E, U+2066–9) are format characters.
pub fn is_hidden(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Surrogate
    ) || FILLERS.contains(&c)
}

pub(crate) fn push_escaped(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// `s` with every hidden character shown as `\u{…}` (borrowed when none is).
pub fn display(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hidden(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_cannot_start_a_new_line_or_reorder_the_text() {
        let forged = "done\n2026-12-07T00:00:00Z INFO audit event=lifted\u{2028}\u{202e}x";
        let shown = display(forged);
        assert!(!shown.contains('\n') && !shown.contains('\u{2028}'));
        assert!(shown.contains("\\u{a}2026") && shown.contains("\\u{202e}x"));
        assert!(matches!(display("plain text"), Cow::Borrowed(_)));
    }
}

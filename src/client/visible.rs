//! Server text made safe to print: the one helper every client path that shows
//! something a server sent (reasons, ARNs, messages, error bodies, bad entries)
//! goes through.
//!
//! Invariants: the result holds no character that can move the cursor, start
//! an escape or control sequence, break or fake a line, or reorder or hide what
//! follows: every control character (C0, DEL, C1 — so ESC, BEL, CR, LF, VT, FF,
//! NUL, U+0085), the line and paragraph separators U+2028/U+2029, every bidi
//! control (U+061C, U+200E/U+200F, U+202A–U+202E, U+2066–U+2069) and the
//! zero-width characters (U+200B–U+200D, U+2060, U+FEFF) are shown as Rust
//! escapes (`\n`, `\u{1b}`, `\u{202e}`); everything else is kept as is, so
//! ordinary text (accents, CJK, emoji) reads normally. Invalid UTF-8 becomes
//! U+FFFD. [`escaped`] is the stricter form used to name a value that was
//! refused: every non-ASCII or non-printable character escaped, length-capped.

use std::borrow::Cow;

/// Longest part of a refused value shown in an error: enough to recognise
/// it, not enough to flood a terminal.
pub const MAX_SHOWN_REFUSED: usize = 80;

/// Whether `c` must never reach a terminal raw.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}'
                | '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// `s` with every [`is_hidden`] character shown escaped.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`visible`] for bytes that may not be UTF-8.
pub fn visible_bytes(b: &[u8]) -> String {
    visible(&String::from_utf8_lossy(b)).into_owned()
}

/// A refused value as `"…"`, `escape_default`-style (quotes, backslashes,
/// and everything outside printable ASCII escaped), cut after
/// [`MAX_SHOWN_REFUSED`] characters.
pub fn escaped(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars().take(MAX_SHOWN_REFUSED) {
        out.extend(c.escape_default());
    }
    out.push('"');
    if s.chars().count() > MAX_SHOWN_REFUSED {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_separators_and_bidi_are_shown_escaped() {
        let hostile = "a\u{1b}[2J\u{1b}]52;c;eA==\u{7}b\r\n\u{b}\u{c}\0\u{85}\u{2028}\u{2029}\
                       \u{202e}\u{2066}\u{2069}\u{200e}\u{200f}\u{61c}\u{200b}\u{feff}c";
        let shown = visible(hostile);
        assert!(!shown.chars().any(is_hidden), "{shown:?}");
        assert_eq!(
            shown,
            "a\\u{1b}[2J\\u{1b}]52;c;eA==\\u{7}b\\r\\n\\u{b}\\u{c}\\u{0}\\u{85}\\u{2028}\\u{2029}\
             \\u{202e}\\u{2066}\\u{2069}\\u{200e}\\u{200f}\\u{61c}\\u{200b}\\u{feff}c"
        );
        // Ordinary text is untouched (and not copied).
        for ok in [
            "prod is down: paging João, 東京 🚨",
            "arn:aws:iam::1:user/a\\b",
        ] {
            assert!(matches!(visible(ok), Cow::Borrowed(s) if s == ok));
        }
        assert_eq!(visible_bytes(b"ok\xff\x1b"), "ok\u{fffd}\\u{1b}");
    }

    #[test]
    fn refused_values_are_named_in_printable_ascii_and_capped() {
        let name = "readonly]\n credential_process = sh -c 'touch /tmp/pwned'\n [profile z";
        assert_eq!(
            escaped(name),
            "\"readonly]\\n credential_process = sh -c \\'touch /tmp/pwned\\'\\n [profile z\""
        );
        let long = escaped(&"é".repeat(500));
        assert!(long.trim_end_matches('…').is_ascii(), "{long}");
        assert!(long.ends_with('…'));
        assert_eq!(long.matches("\\u{e9}").count(), MAX_SHOWN_REFUSED);
    }
}

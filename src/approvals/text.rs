//! Caller-written text (reasons, comments, ARNs, profile names) shown to
//! people: on the web page, in webhook `text`, and measured against a rule's
//! `reason_min_length`.
//!
//! Invariants:
//! - [`is_hidden`] and [`display`] are [`crate::telemetry::text`]'s (the one
//!   definition of a character a reader cannot see, shared with the audit log
//!   line), re-exported here for the page and the webhooks;
//! - [`webhook_field`] does the same and also makes chat markup inert: `&`, `<`,
//!   `>` escaped as entities (Slack's `<url|text>`, HTML and CommonMark
//!   autolinks), `[`, `]` and `\` backslash-escaped (Markdown links and images);
//!   every field interpolated into a webhook's `text` goes through it
//!   ([`super::webhook::WebhookText`]);
//! - [`visible_len`] counts only letters, digits, punctuation and symbols that
//!   are not hidden: no separators (spaces), marks, controls or format
//!   characters, so an invisible reason is as short as an empty one.

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::telemetry::text::push_escaped;
pub use crate::telemetry::text::{display, is_hidden};

/// `s` made safe to interpolate into a webhook's one-line `text`: hidden
/// characters as `\u{…}`, `&<>` as entities, `[`, `]` and `\` backslash-escaped.
pub fn webhook_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if is_hidden(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// How many characters of `s` a reader sees: letters, digits, punctuation and
/// symbols, not hidden (what `reason_min_length` counts).
pub fn visible_len(s: &str) -> usize {
    s.chars()
        .filter(|&c| {
            matches!(
                c.general_category_group(),
                GeneralCategoryGroup::Letter
                    | GeneralCategoryGroup::Number
                    | GeneralCategoryGroup::Punctuation
                    | GeneralCategoryGroup::Symbol
            ) && !is_hidden(c)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// Every character the issue names (#18, item 7), and then some.
    const HIDDEN: &[char] = &[
        '\0',
        '\n',
        '\r',
        '\t',
        '\u{b}',
        '\u{c}',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{9b}',
        '\u{2028}',
        '\u{2029}',
        '\u{202a}',
        '\u{202b}',
        '\u{202c}',
        '\u{202d}',
        '\u{202e}',
        '\u{2066}',
        '\u{2067}',
        '\u{2068}',
        '\u{2069}',
        '\u{200e}',
        '\u{200f}',
        '\u{061c}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{2060}',
        '\u{feff}',
        '\u{ad}',
        '\u{e0041}',
        '\u{115f}',
        '\u{1160}',
        '\u{3164}',
        '\u{ffa0}',
        '\u{2800}',
    ];

    #[test]
    fn every_control_separator_bidi_and_filler_is_hidden() {
        for &c in HIDDEN {
            assert!(is_hidden(c), "U+{:04X}", u32::from(c));
            assert_eq!(visible_len(&c.to_string()), 0, "U+{:04X}", u32::from(c));
        }
        for c in [
            'a', 'é', 'ж', '漢', '7', '.', '€', '😀', ' ', '\u{a0}', '\u{301}',
        ] {
            assert!(!is_hidden(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn display_shows_hidden_characters_as_escapes() {
        assert_eq!(display("plain (ok) é"), Cow::Borrowed("plain (ok) é"));
        assert_eq!(
            display("a\u{202e}b\u{2028}c\0d"),
            "a\\u{202e}b\\u{2028}c\\u{0}d"
        );
        assert_eq!(display("\u{3164}"), "\\u{3164}");
    }

    #[test]
    fn webhook_fields_cannot_break_lines_or_make_links() {
        let forged = "fix\u{2028}BREAK-GLASS: arn:aws:iam::1:user/bob took prod";
        let f = webhook_field(forged);
        assert!(!f.chars().any(is_hidden), "{f}");
        assert!(f.contains("\\u{2028}BREAK-GLASS"), "{f}");
        for raw in [
            "a\u{85}b",
            "a\u{2029}b",
            "a\u{b}b",
            "a\u{c}b",
            "a\nb",
            "a\rb",
        ] {
            assert_eq!(webhook_field(raw).lines().count(), 1, "{raw:?}");
            assert!(!webhook_field(raw).chars().any(is_hidden), "{raw:?}");
        }
        assert_eq!(
            webhook_field("[x](https://evil) ![i](https://e/p.png)"),
            "\\[x\\](https://evil) !\\[i\\](https://e/p.png)"
        );
        assert_eq!(
            webhook_field("<https://evil|click> & <!channel>"),
            "&lt;https://evil|click&gt; &amp; &lt;!channel&gt;"
        );
        // An escape in the input cannot undo ours.
        assert_eq!(webhook_field("\\[x](y)"), "\\\\\\[x\\](y)");
        assert_eq!(
            webhook_field("a\u{202e}b\u{2066}c\0"),
            "a\\u{202e}b\\u{2066}c\\u{0}"
        );
    }

    #[test]
    fn only_visible_characters_count() {
        assert_eq!(visible_len(&"\u{200b}".repeat(25)), 0);
        assert_eq!(visible_len(&"\u{3164}".repeat(25)), 0);
        assert_eq!(visible_len(&" \u{3000}\u{2003}\u{a0}".repeat(10)), 0);
        assert_eq!(visible_len("a\u{301}"), 1, "a combining mark adds nothing");
        assert_eq!(visible_len("db down, paging: #1234 €"), 20);
        assert_eq!(visible_len("数据库宕机"), 5);
    }
}

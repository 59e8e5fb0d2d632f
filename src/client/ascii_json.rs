//! JSON written for a terminal and a machine at once: `tvm sessions --json`
//! and `tvm audit`'s JSON lines.
//!
//! Invariant: the output is printable ASCII only — every character outside
//! it inside a string (controls, DEL, C1, separators, bidi and zero-width
//! characters, and all other non-ASCII) is written as a JSON `\uXXXX`
//! escape (a surrogate pair above U+FFFF), so a JSON parser reads back the
//! server's exact text while a terminal shows nothing it could obey.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, Serializer};

/// A compact formatter that escapes everything outside printable ASCII.
struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        for c in fragment.chars() {
            if c.is_ascii() && !c.is_ascii_control() {
                writer.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{u:04x}")?;
                }
            }
        }
        Ok(())
    }

    fn write_char_escape<W>(&mut self, writer: &mut W, escape: CharEscape) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        CompactFormatter.write_char_escape(writer, escape)
    }
}

/// `value` as one line of printable-ASCII JSON.
pub fn to_line<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, AsciiFormatter);
    value.serialize(&mut ser)?;
    // Only printable ASCII was written.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hidden_or_non_ascii_character_is_escaped_and_reads_back_exactly() {
        let text = "a\u{1b}[2J\u{7f}\u{85}\u{2028}\u{202e}é😀\"\\\n";
        let line = to_line(&serde_json::json!({"Detail": text})).unwrap();
        assert!(line.bytes().all(|b| (0x20..0x7f).contains(&b)), "{line}");
        assert!(
            line.contains(r"\u001b[2J\u007f\u0085\u2028\u202e\u00e9\ud83d\ude00"),
            "{line}"
        );
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["Detail"], text);
    }
}

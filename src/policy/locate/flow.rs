//! The locator's reading of quoted scalars and flow collections
//! (`["a", b]`, `{start: "08:00"}`), for `locate.rs`.
//!
//! Owns: finding where a quoted scalar or a flow collection ends, possibly
//! lines later, with the position of every entry; decoding quoted keys.
//!
//! Invariant: like its parent, anything not followed exactly (anchors, tags,
//! a plain scalar that goes on over a line break, a `key: value` pair inside
//! a list, an escape not listed in [`unquote`]) is [`Unsure`], never a guess.

use super::scan::{unsupported_start, Node, Pos, Scan, Scanner, Unsure, MAX_DEPTH};

/// A position in the text while reading flow collections.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cur {
    pub(super) line: usize,
    pub(super) byte: usize,
}

impl Scanner<'_> {
    /// Just after the closing quote of the scalar opening at `(l, col)`.
    pub(super) fn quoted(&self, mut l: usize, col: usize) -> Scan<(usize, usize)> {
        let q = self.lines[l].as_bytes()[col];
        let mut i = col + 1;
        loop {
            let b = self.lines[l].as_bytes();
            if i >= b.len() {
                l += 1;
                i = 0;
                if l >= self.lines.len() {
                    return Err(Unsure);
                }
                continue;
            }
            match b[i] {
                b'\\' if q == b'"' => i += 2,
                b'\'' if q == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 2,
                c if c == q => return Ok((l, i + 1)),
                _ => i += 1,
            }
        }
    }

    /// The next byte (`\n` at a line end), `None` at the end of the text.
    fn peek(&self, c: &Cur) -> Option<u8> {
        let line = self.lines.get(c.line)?.as_bytes();
        Some(line.get(c.byte).copied().unwrap_or(b'\n'))
    }

    fn bump(&self, c: &mut Cur) {
        if c.byte >= self.lines[c.line].len() {
            c.line += 1;
            c.byte = 0;
        } else {
            c.byte += 1;
        }
    }

    /// Skips spaces, line breaks and comments inside a flow collection.
    fn skip_space(&self, c: &mut Cur) {
        while let Some(b) = self.peek(c) {
            match b {
                b' ' | b'\n' => self.bump(c),
                b'#' => c.byte = self.lines[c.line].len(),
                _ => break,
            }
        }
    }

    /// The flow collection opening at `c`; leaves `c` after its end.
    pub(super) fn flow(&mut self, c: &mut Cur) -> Scan<Node> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unsure);
        }
        let close = if self.peek(c) == Some(b'[') {
            b']'
        } else {
            b'}'
        };
        self.bump(c);
        let (mut items, mut entries) = (Vec::new(), Vec::new());
        loop {
            self.skip_space(c);
            if self.peek(c) == Some(close) {
                break;
            }
            let at = Pos {
                line: c.line,
                byte: c.byte,
            };
            if close == b']' {
                items.push((at, self.flow_node(c)?.0));
            } else {
                let (value, key) = self.flow_node(c)?;
                if !matches!(value, Node::Leaf) {
                    return Err(Unsure);
                }
                self.skip_space(c);
                let value = if self.peek(c) == Some(b':') {
                    self.bump(c);
                    self.skip_space(c);
                    match self.peek(c) {
                        Some(b',' | b'}') => Node::Leaf,
                        _ => self.flow_node(c)?.0,
                    }
                } else {
                    Node::Leaf
                };
                entries.push((key, at, value));
            }
            self.skip_space(c);
            match self.peek(c) {
                Some(b',') => self.bump(c),
                Some(b) if b == close => break,
                _ => return Err(Unsure),
            }
        }
        self.bump(c);
        self.depth -= 1;
        Ok(if close == b']' {
            Node::Seq(items)
        } else {
            Node::Map(entries)
        })
    }

    /// A node inside a flow collection, and its text when it is a scalar on
    /// one line that could be decoded.
    fn flow_node(&mut self, c: &mut Cur) -> Scan<(Node, Option<String>)> {
        let line = self.lines.get(c.line).ok_or(Unsure)?;
        match self.peek(c) {
            Some(b'[' | b'{') => Ok((self.flow(c)?, None)),
            Some(q @ (b'"' | b'\'')) => {
                let (end_line, end) = self.quoted(c.line, c.byte)?;
                let text = (end_line == c.line).then(|| unquote(q, &line[c.byte + 1..end - 1]));
                *c = Cur {
                    line: end_line,
                    byte: end,
                };
                Ok((Node::Leaf, text.flatten()))
            }
            Some(b) if unsupported_start(b) || b"\n|>-".contains(&b) => Err(Unsure),
            Some(_) => {
                // A plain scalar ends at a flow indicator, `: `, ` #` or the line end.
                let b = line.as_bytes();
                let start = c.byte;
                let mut i = start;
                while i < b.len() {
                    match b[i] {
                        b',' | b'[' | b']' | b'{' | b'}' => break,
                        b'#' if i > start && b[i - 1] == b' ' => break,
                        b':' => match b.get(i + 1) {
                            None | Some(b' ') => break,
                            Some(b',' | b'?' | b'[' | b']' | b'{' | b'}') => return Err(Unsure),
                            Some(_) => {}
                        },
                        _ => {}
                    }
                    i += 1;
                }
                c.byte = i;
                Ok((
                    Node::Leaf,
                    Some(line[start..i].trim_end_matches(' ').to_owned()),
                ))
            }
            None => Err(Unsure),
        }
    }
}

/// The value of a one-line quoted scalar's inner text, `None` for an escape
/// this does not decode (such a key can then not be found, never misfound).
pub(super) fn unquote(quote: u8, raw: &str) -> Option<String> {
    if quote == b'\'' {
        return Some(raw.replace("''", "'"));
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escape = chars.next()?;
        let width = match escape {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if width > 0 {
            let digits: String = chars.by_ref().take(width).collect();
            if digits.len() != width || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(char::from_u32(u32::from_str_radix(&digits, 16).ok()?)?);
            continue;
        }
        out.push(match escape {
            '\\' => '\\',
            '"' => '"',
            '/' => '/',
            ' ' => ' ',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            _ => return None,
        });
    }
    Some(out)
}

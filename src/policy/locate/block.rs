//! The locator's reading of block-style YAML: mappings and sequences by
//! indentation, plain scalars, comments and document markers.
//!
//! Invariant: anything not followed exactly is [`Unsure`], never a guess.

use super::flow::{unquote, Cur};
use super::scan::{unsupported_start, Node, Pos, Scan, Scanner, Unsure, MAX_DEPTH};

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Nothing but spaces and maybe a comment.
fn blank(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || t.starts_with('#')
}

/// A block sequence entry starts here.
fn is_dash(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// `---` or `...` at the start of a line.
fn is_marker(line: &str) -> bool {
    (line.starts_with("---") || line.starts_with("..."))
        && matches!(line.as_bytes().get(3), None | Some(b' '))
}

impl Scanner<'_> {
    /// The first line at or after `l` holding more than spaces and a comment.
    pub(super) fn significant(&self, mut l: usize) -> Option<usize> {
        while l < self.lines.len() {
            if !blank(self.lines[l]) {
                return Some(l);
            }
            l += 1;
        }
        None
    }

    /// The whole text: an optional `---`, one node, an optional `...`.
    pub(super) fn document(&mut self) -> Scan<Node> {
        let mut l = self.significant(0).ok_or(Unsure)?;
        if self.lines[l].starts_with('%') {
            return Err(Unsure);
        }
        if is_marker(self.lines[l]) {
            if !self.lines[l].starts_with("---") || !blank(&self.lines[l][3..]) {
                return Err(Unsure);
            }
            l = self.significant(l + 1).ok_or(Unsure)?;
        }
        let (root, next) = self.node(l, indent(self.lines[l]), -1)?;
        match self.significant(next) {
            None => Ok(root),
            Some(end)
                if self.lines[end].starts_with("...")
                    && blank(&self.lines[end][3..])
                    && self.significant(end + 1).is_none() =>
            {
                Ok(root)
            }
            Some(_) => Err(Unsure),
        }
    }

    /// The block node starting at `(l, col)` inside a collection indented
    /// `parent`; returns it and the first line after it.
    pub(super) fn node(&mut self, l: usize, col: usize, parent: isize) -> Scan<(Node, usize)> {
        self.depth += 1;
        if self.depth > MAX_DEPTH || (col == 0 && is_marker(self.lines[l])) {
            return Err(Unsure);
        }
        let out = if is_dash(&self.lines[l][col..]) {
            self.seq(l, col)
        } else if self.key(l, col)?.is_some() {
            self.map(l, col)
        } else {
            self.scalar(l, col, parent)
        };
        self.depth -= 1;
        out
    }

    /// When a mapping key starts at `(l, col)`: the key (`None` if it cannot
    /// be decoded) and the byte offset just after its `:`.
    pub(super) fn key(&self, l: usize, col: usize) -> Scan<Option<(Option<String>, usize)>> {
        let line = self.lines[l];
        let rest = &line[col..];
        match rest.as_bytes()[0] {
            q @ (b'"' | b'\'') => {
                let (end_line, end) = self.quoted(l, col)?;
                let after = &self.lines[end_line][end..];
                let t = after.trim_start_matches(' ');
                if !(t.starts_with(':') && matches!(t.as_bytes().get(1), None | Some(b' '))) {
                    return Ok(None);
                }
                if end_line != l {
                    return Err(Unsure);
                }
                let colon = line.len() - t.len();
                Ok(Some((unquote(q, &line[col + 1..end - 1]), colon + 1)))
            }
            b'[' | b'{' | b'|' | b'>' => Ok(None),
            b if unsupported_start(b) => Err(Unsure),
            _ => {
                let b = rest.as_bytes();
                for i in 0..b.len() {
                    if b[i] == b'#' && i > 0 && b[i - 1] == b' ' {
                        break;
                    }
                    if b[i] == b':' && matches!(b.get(i + 1), None | Some(b' ')) {
                        let key = rest[..i].trim_end_matches(' ');
                        return Ok(Some((Some(key.to_owned()), col + i + 1)));
                    }
                }
                Ok(None)
            }
        }
    }

    /// A block mapping whose keys sit at column `n`, the first at `(l, n)`.
    pub(super) fn map(&mut self, mut l: usize, n: usize) -> Scan<(Node, usize)> {
        let mut entries = Vec::new();
        loop {
            let (key, after) = self.key(l, n)?.ok_or(Unsure)?;
            let line = self.lines[l];
            let v = after + indent(&line[after..]);
            let (value, next) = if blank(&line[v..]) {
                match self.significant(l + 1) {
                    Some(l2) if indent(self.lines[l2]) > n => {
                        self.node(l2, indent(self.lines[l2]), n as isize)?
                    }
                    // A sequence may sit at its key's indentation.
                    Some(l2) if indent(self.lines[l2]) == n && is_dash(&self.lines[l2][n..]) => {
                        self.node(l2, n, n as isize)?
                    }
                    _ => (Node::Leaf, l + 1),
                }
            } else {
                self.scalar(l, v, n as isize)?
            };
            entries.push((key, Pos { line: l, byte: n }, value));
            match self.significant(next) {
                Some(l2) if n == 0 && is_marker(self.lines[l2]) => {
                    return Ok((Node::Map(entries), next))
                }
                Some(l2) if indent(self.lines[l2]) == n && !is_dash(&self.lines[l2][n..]) => l = l2,
                Some(l2) if indent(self.lines[l2]) > n => return Err(Unsure),
                _ => return Ok((Node::Map(entries), next)),
            }
        }
    }

    /// A block sequence whose dashes sit at column `n`, the first at `(l, n)`.
    pub(super) fn seq(&mut self, mut l: usize, n: usize) -> Scan<(Node, usize)> {
        let mut items = Vec::new();
        loop {
            let line = self.lines[l];
            let k = n + 1 + indent(&line[n + 1..]);
            let (at, value, next) = if blank(&line[k..]) {
                match self.significant(l + 1) {
                    Some(l2) if indent(self.lines[l2]) > n => {
                        let at = Pos {
                            line: l2,
                            byte: indent(self.lines[l2]),
                        };
                        let (value, next) = self.node(l2, at.byte, n as isize)?;
                        (at, value, next)
                    }
                    _ => (Pos { line: l, byte: n }, Node::Leaf, l + 1),
                }
            } else {
                let (value, next) = self.node(l, k, n as isize)?;
                (Pos { line: l, byte: k }, value, next)
            };
            items.push((at, value));
            match self.significant(next) {
                Some(l2) if n == 0 && is_marker(self.lines[l2]) => {
                    return Ok((Node::Seq(items), next))
                }
                Some(l2) if indent(self.lines[l2]) == n && is_dash(&self.lines[l2][n..]) => l = l2,
                Some(l2) if indent(self.lines[l2]) > n => return Err(Unsure),
                _ => return Ok((Node::Seq(items), next)),
            }
        }
    }

    /// A node that is not a block collection: flow, quoted, block or plain
    /// scalar, at `(l, col)` inside a collection indented `parent`.
    pub(super) fn scalar(&mut self, l: usize, col: usize, parent: isize) -> Scan<(Node, usize)> {
        let rest = &self.lines[l][col..];
        match rest.as_bytes()[0] {
            b'[' | b'{' => {
                let mut cur = Cur { line: l, byte: col };
                let node = self.flow(&mut cur)?;
                if !blank(&self.lines[cur.line][cur.byte..]) {
                    return Err(Unsure);
                }
                Ok((node, cur.line + 1))
            }
            b'"' | b'\'' => {
                let (end_line, end) = self.quoted(l, col)?;
                if !blank(&self.lines[end_line][end..]) {
                    return Err(Unsure);
                }
                Ok((Node::Leaf, end_line + 1))
            }
            b'|' | b'>' => {
                let header = rest[1..]
                    .trim_start_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit());
                if !blank(header) {
                    return Err(Unsure);
                }
                Ok((Node::Leaf, self.continuation(l + 1, parent)))
            }
            b if unsupported_start(b) => Err(Unsure),
            _ => Ok((Node::Leaf, self.continuation(l + 1, parent))),
        }
    }

    /// The first line at or after `l` that does not continue a scalar: lines
    /// that are blank or indented deeper than `parent` continue it.
    pub(super) fn continuation(&self, mut l: usize, parent: isize) -> usize {
        while let Some(line) = self.lines.get(l) {
            let i = indent(line);
            if i < line.len() && i as isize <= parent {
                break;
            }
            l += 1;
        }
        l
    }
}

//! The locator's shared pieces: positions, the document tree, and the
//! [`Scanner`] over the lines, read in block style by `block.rs` and in flow
//! style by `flow.rs`.
//!
//! Invariant: [`Unsure`] means the text uses YAML the scanner does not follow;
//! the locator then gives no location rather than a guess.

/// Deepest nesting followed (the YAML parser itself stops at 128).
pub(super) const MAX_DEPTH: usize = 64;

/// Where a node starts: 0-based line and byte offset in that line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub(super) line: usize,
    pub(super) byte: usize,
}

/// The document's shape, with the position of every entry.
#[derive(Debug)]
pub(super) enum Node {
    Leaf,
    /// Entries in order: key (`None` when it could not be decoded), position of the key, value.
    Map(Vec<(Option<String>, Pos, Node)>),
    /// Items in order: position, value.
    Seq(Vec<(Pos, Node)>),
}

/// The scanner gave up: the text uses YAML it does not follow.
#[derive(Debug)]
pub(super) struct Unsure;

pub(super) type Scan<T> = Result<T, Unsure>;

/// Node properties and indicators the scanner does not follow.
pub(super) fn unsupported_start(b: u8) -> bool {
    b"&*!?%@`,]}#:".contains(&b)
}

pub(super) struct Scanner<'a> {
    pub(super) lines: &'a [&'a str],
    pub(super) depth: usize,
}

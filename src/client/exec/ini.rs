//! A reader for the AWS shared config and credentials files as botocore reads
//! them: Python's `RawConfigParser` (strict), then botocore's one level of
//! nested settings (`s3 =` followed by indented `key = value` lines).
//!
//! What it keeps from `RawConfigParser`: lines end at `\n`, `\r\n` or `\r`; a
//! line whose first non-blank character is `#` or `;` is a comment; a line
//! indented deeper than its setting continues that setting's value (blank lines
//! inside a value are kept, trailing ones dropped); a section header is `[`, the
//! name, and the *last* `]` of the line; a setting is `key = value` or
//! `key: value`, split at the first `=` or `:`, key lower-cased; a section or a
//! key that appears twice, a setting before any section, or any other line is an
//! error (botocore refuses such a file too). Values are returned raw: whoever
//! copies one elsewhere checks it first ([`super::profile`]).
//!
//! Invariants: never panics on any input (a property test feeds it arbitrary
//! text); names and values in errors are escaped, never printed raw.

/// One `[section]` of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The text between `[` and the last `]`, as is (botocore does not trim it).
    pub name: String,
    /// Its settings, in file order.
    pub settings: Vec<Setting>,
}

/// One `key = value` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The key, lower-cased (as `RawConfigParser`'s `optionxform`).
    pub key: String,
    /// The value: continuation lines joined with `\n`, trailing blanks dropped.
    /// A value that starts with `\n` is a nested one ([`Setting::nested`]).
    pub value: String,
    /// 1-based line of the key, for messages.
    pub line: usize,
}

/// A file that botocore would refuse too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IniError {
    /// A setting before the first `[section]`.
    #[error("line {0}: a setting before any [section]")]
    NoSection(usize),
    /// A line that is neither a section, a setting, a comment nor blank.
    #[error("line {0}: neither a [section], a `key = value` setting nor a comment")]
    Malformed(usize),
    /// The same section twice.
    #[error("line {line}: section [{}] appears twice", .name.escape_debug())]
    DuplicateSection {
        /// 1-based line.
        line: usize,
        /// The section name.
        name: String,
    },
    /// The same key twice in one section.
    #[error("line {line}: `{}` appears twice in its section", .key.escape_debug())]
    DuplicateKey {
        /// 1-based line.
        line: usize,
        /// The key.
        key: String,
    },
    /// A nested value with a line that is not `key = value`.
    #[error("line {line}: a line of the nested setting `{}` has no `=`", .key.escape_debug())]
    BadNested {
        /// 1-based line of the setting.
        line: usize,
        /// The setting's key.
        key: String,
    },
}

impl Setting {
    /// The `(key, value)` pairs of a nested value, or `None` for a plain one.
    /// Keys keep their case, as botocore's `_parse_nested` does.
    pub fn nested(&self) -> Option<Result<Vec<(String, String)>, IniError>> {
        let body = self.value.strip_prefix('\n')?;
        let pairs = body
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| IniError::BadNested {
                        line: self.line,
                        key: self.key.clone(),
                    })
            })
            .collect();
        Some(pairs)
    }
}

/// The setting being read, for continuation lines.
struct Open {
    indent: usize,
    lines: Vec<String>,
}

/// Parses `text`.
pub fn parse(text: &str) -> Result<Vec<Section>, IniError> {
    let mut sections: Vec<Section> = Vec::new();
    let mut open: Option<Open> = None;
    for (i, raw) in lines(text).enumerate() {
        let line = i + 1;
        let stripped = raw.trim();
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        if stripped.is_empty() {
            if let Some(o) = open.as_mut() {
                o.lines.push(String::new());
            }
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        if let Some(o) = open.as_mut().filter(|o| indent > o.indent) {
            o.lines.push(stripped.to_owned());
            continue;
        }
        close(&mut sections, open.take());
        if let Some(name) = header(stripped) {
            if sections.iter().any(|s| s.name == name) {
                return Err(IniError::DuplicateSection {
                    line,
                    name: name.to_owned(),
                });
            }
            sections.push(Section {
                name: name.to_owned(),
                settings: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err(IniError::NoSection(line));
        };
        let (key, value) = setting(stripped).ok_or(IniError::Malformed(line))?;
        if section.settings.iter().any(|s| s.key == key) {
            return Err(IniError::DuplicateKey { line, key });
        }
        section.settings.push(Setting {
            key,
            value: String::new(),
            line,
        });
        open = Some(Open {
            indent,
            lines: vec![value.to_owned()],
        });
    }
    close(&mut sections, open);
    Ok(sections)
}

/// Stores the value of the setting just read.
fn close(sections: &mut [Section], open: Option<Open>) {
    if let (Some(o), Some(s)) = (
        open,
        sections.last_mut().and_then(|s| s.settings.last_mut()),
    ) {
        s.value = o.lines.join("\n").trim_end().to_owned();
    }
}

/// Python's universal newlines: `\r\n`, `\r` and `\n` each end a line.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.find(['\r', '\n']) {
            Some(at) => {
                let skip = if r[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&r[at + skip..]);
                Some(&r[..at])
            }
            None => {
                rest = None;
                (!r.is_empty()).then_some(r)
            }
        }
    })
}

/// `[name]` up to the last `]` (`RawConfigParser`'s `\[(?P<header>.+)\]`).
fn header(stripped: &str) -> Option<&str> {
    let inner = stripped.strip_prefix('[')?;
    let end = inner.rfind(']')?;
    (end > 0).then(|| &inner[..end])
}

/// `key = value` or `key: value`, split at the first delimiter; the key must
/// not be empty.
fn setting(stripped: &str) -> Option<(String, &str)> {
    let at = stripped.find(['=', ':'])?;
    let key = stripped[..at].trim_end();
    (!key.is_empty()).then(|| (key.to_lowercase(), stripped[at + 1..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap()[0]
            .settings
            .iter()
            .map(|s| (s.key.clone(), s.value.clone()))
            .collect()
    }

    #[test]
    fn reads_settings_comments_and_delimiters_as_configparser_does() {
        let text = "# top\n[profile a] trailing\r\nRegion = eu-west-1\r; c\n  # indented comment\nout: json\rx=1=2\n";
        let s = parse(text).unwrap();
        assert_eq!(s[0].name, "profile a");
        assert_eq!(
            one(text),
            [
                ("region".into(), "eu-west-1".into()),
                ("out".into(), "json".into()),
                ("x".into(), "1=2".into())
            ]
        );
    }

    #[test]
    fn joins_continuations_and_parses_nested_values() {
        let text = "[default]\ns3 =\n  addressing_style = path\n\n  max_bandwidth=1MB/s\n\nregion = a\n  b\n";
        let s = &parse(text).unwrap()[0].settings;
        assert_eq!(
            s[0].value,
            "\naddressing_style = path\n\nmax_bandwidth=1MB/s"
        );
        assert_eq!(
            s[0].nested().unwrap().unwrap(),
            [
                ("addressing_style".into(), "path".into()),
                ("max_bandwidth".into(), "1MB/s".into())
            ]
        );
        assert_eq!(s[1].value, "a\nb");
        assert!(s[1].nested().is_none());
        let bad = &parse("[default]\ns3 =\n  nothing here\n").unwrap()[0].settings[0];
        assert!(matches!(
            bad.nested(),
            Some(Err(IniError::BadNested { .. }))
        ));
    }

    #[test]
    fn refuses_what_botocore_refuses() {
        assert_eq!(parse("region = x\n"), Err(IniError::NoSection(1)));
        assert_eq!(parse("[a]\njunk\n"), Err(IniError::Malformed(2)));
        assert_eq!(parse("[a]\n= x\n"), Err(IniError::Malformed(2)));
        assert!(matches!(
            parse("[a]\n[b]\n[a]\n"),
            Err(IniError::DuplicateSection { line: 3, .. })
        ));
        assert!(matches!(
            parse("[a]\nRegion = x\nregion = y\n"),
            Err(IniError::DuplicateKey { line: 3, .. })
        ));
        // `[]` is no header: a setting-less line.
        assert_eq!(parse("[a]\n[]\n"), Err(IniError::Malformed(2)));
    }

    #[test]
    fn errors_show_names_escaped() {
        let e = parse("[a\u{1b}[2J]\n[a\u{1b}[2J]\n")
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\u{1b}'), "{e}");
        assert!(e.contains("\\u{1b}"), "{e}");
    }

    proptest! {
        #[test]
        fn never_panics(text in "(\\PC|[\r\n\t \\[\\]=:#;])*") {
            let _ = parse(&text).map(|s| s.iter().flat_map(|s| s.settings.clone())
                .for_each(|s| { let _ = s.nested(); }));
        }
    }
}

//! Session durations as written in the policy file ("15m", "1h30m", "900s").
//!
//! Owns: the strict duration grammar and the STS duration range.
//!
//! Invariants: a parsed duration is a whole number of seconds in
//! [`MIN_SESSION_SECONDS`]`..=`[`MAX_SESSION_SECONDS`]; the grammar accepts only
//! `(<digits><unit>)+` with units `h`, `m`, `s`, each unit at most once and in
//! that order, no signs, spaces, fractions or ISO 8601 forms, so a typo can
//! never be read as a different length.

/// The shortest session STS issues (`DurationSeconds` minimum, 15 minutes).
/// Keeps every duration tvm asks for acceptable to STS.
pub const MIN_SESSION_SECONDS: u32 = 900;

/// The longest session STS issues for a role (12 hours). No profile or rule can
/// grant more. (With role chaining STS itself caps sessions at 1 hour.)
pub const MAX_SESSION_SECONDS: u32 = 43_200;

/// A profile's session length when the policy does not set `default_duration`.
pub const DEFAULT_DEFAULT_SECONDS: u32 = 900;

/// A profile's maximum when the policy does not set `max_duration`.
pub const DEFAULT_MAX_SECONDS: u32 = 3_600;

/// Longest duration text accepted; bounds the parser's work and any digit run.
const MAX_DURATION_TEXT: usize = 32;

/// Parses a duration string such as `"15m"`, `"1h30m"` or `"900s"` into
/// seconds, checking the STS range.
pub(crate) fn parse_session_duration(text: &str) -> Result<u32, String> {
    let secs = parse_seconds(text)?;
    if !(u64::from(MIN_SESSION_SECONDS)..=u64::from(MAX_SESSION_SECONDS)).contains(&secs) {
        return Err(format!(
            "duration {text:?} is outside the STS range 15m..12h ({MIN_SESSION_SECONDS}..={MAX_SESSION_SECONDS} seconds)"
        ));
    }
    u32::try_from(secs).map_err(|_| format!("duration {text:?} is too large"))
}

/// The grammar without the range check.
fn parse_seconds(text: &str) -> Result<u64, String> {
    let bad = || {
        format!("invalid duration {text:?}: expected e.g. \"15m\", \"1h\", \"1h30m\" or \"900s\"")
    };
    if text.is_empty() || text.len() > MAX_DURATION_TEXT {
        return Err(bad());
    }
    let bytes = text.as_bytes();
    let mut total: u64 = 0;
    // Units must appear in the order h, m, s, each at most once.
    let mut next_unit_rank = 0u8;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i == bytes.len() {
            return Err(bad());
        }
        let digits = &text[start..i];
        let value: u64 = digits.parse().map_err(|_| bad())?;
        let (rank, factor) = match bytes[i] {
            b'h' => (1, 3_600),
            b'm' => (2, 60),
            b's' => (3, 1),
            _ => return Err(bad()),
        };
        if rank <= next_unit_rank {
            return Err(bad());
        }
        next_unit_rank = rank;
        total = value
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        i += 1;
    }
    Ok(total)
}

/// Formats seconds back in the policy grammar (for summaries and messages).
pub(crate) fn format_seconds(secs: u32) -> String {
    let (h, m, s) = (secs / 3_600, (secs % 3_600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_documented_forms() {
        for (text, secs) in [
            ("15m", 900),
            ("1h", 3_600),
            ("900s", 900),
            ("1h30m", 5_400),
            ("1h0m30s", 3_630),
            ("12h", 43_200),
            ("720m", 43_200),
            ("0h15m", 900),
        ] {
            assert_eq!(parse_session_duration(text), Ok(secs), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_or_out_of_range() {
        for text in [
            "",
            "15",
            "m",
            "15M",
            "1.5h",
            "-15m",
            "+15m",
            " 15m",
            "15m ",
            "PT15M",
            "1d",
            "30m1h",
            "1h1h",
            "15mm",
            "1h 30m",
            "14m59s",
            "12h1s",
            "13h",
            "0s",
            "99999999999999999999h",
            "١٥m",
        ] {
            assert!(parse_session_duration(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn formats_round_trip() {
        for secs in [900, 3_600, 5_400, 3_630, 43_200, 901] {
            assert_eq!(parse_seconds(&format_seconds(secs)), Ok(u64::from(secs)));
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_in_range(text in "\\PC{0,40}") {
            if let Ok(secs) = parse_session_duration(&text) {
                prop_assert!((MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&secs));
            }
        }

        #[test]
        fn hms_parses_to_the_sum(h in 0u64..13, m in 0u64..800, s in 0u64..50_000) {
            let text = format!("{h}h{m}m{s}s");
            prop_assert_eq!(parse_seconds(&text), Ok(h * 3_600 + m * 60 + s));
        }
    }
}

//! The `time` condition of a rule: days of the week and an hour window in an
//! IANA time zone.
//!
//! Owns: parsing `"HH:MM"`, resolving the time zone at load, and deciding
//! whether an instant falls inside a window.
//!
//! Invariants and choices:
//! - the time zone is resolved once at load (an unknown name is a load error);
//!   omitted, it is UTC;
//! - `start` is inclusive and `end` exclusive; `end: "24:00"` means midnight at
//!   the end of the day; `start == end` is rejected (omit `hours` for all day);
//! - a window whose `end` is before its `start` runs across midnight
//!   (e.g. 22:00–06:00); **the day that counts is the day the window started**:
//!   with `days: [fri]`, Friday 23:00 and Saturday 03:00 match, Friday 03:00 does
//!   not;
//! - omitted `days` means every day, omitted `hours` means the whole day;
//! - the local wall-clock time is derived from the instant, so DST changes
//!   shorten or lengthen a window exactly as the wall clock does.

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::model::{Day, RawTime};

/// Minutes in a day; `end: "24:00"` is this value.
const MINUTES_PER_DAY: u16 = 24 * 60;

/// Longest time-zone name accepted (the longest IANA name is ~30 bytes).
const MAX_TZ_NAME: usize = 64;

impl Day {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    fn of(weekday: Weekday) -> Day {
        match weekday {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }
}

/// A compiled `time` condition.
#[derive(Debug, Clone)]
pub struct TimeWindow {
    /// Bit `d` set when day `d` (Monday = 0) is allowed.
    days: u8,
    /// Minutes since local midnight, inclusive.
    start: u16,
    /// Minutes since local midnight, exclusive; `start > end` wraps midnight.
    end: u16,
    tz: TimeZone,
    tz_name: String,
}

/// All seven day bits.
const ALL_DAYS: u8 = 0b111_1111;

impl TimeWindow {
    /// Compiles the raw condition; errors name the offending key relative to `time`.
    pub(crate) fn compile(raw: &RawTime) -> Result<Self, (&'static str, String)> {
        if raw.days.is_none() && raw.hours.is_none() {
            return Err(("", "a time condition needs `days` or `hours`".into()));
        }
        let days = match &raw.days {
            None => ALL_DAYS,
            Some(list) if list.is_empty() => {
                return Err(("days", "empty list (omit `days` for every day)".into()))
            }
            Some(list) => {
                let mut bits = 0u8;
                for d in list {
                    if bits & d.bit() != 0 {
                        return Err(("days", format!("{d:?} listed twice").to_lowercase()));
                    }
                    bits |= d.bit();
                }
                bits
            }
        };
        let (start, end) = match &raw.hours {
            None => (0, MINUTES_PER_DAY),
            Some(h) => {
                let start = parse_hhmm(&h.start, false).map_err(|e| ("hours.start", e))?;
                let end = parse_hhmm(&h.end, true).map_err(|e| ("hours.end", e))?;
                if start == end {
                    return Err((
                        "hours",
                        "start equals end; omit `hours` for the whole day".into(),
                    ));
                }
                (start, end)
            }
        };
        let tz_name = raw.timezone.clone().unwrap_or_else(|| "UTC".to_owned());
        let tz = resolve_tz(&tz_name).map_err(|e| ("timezone", e))?;
        Ok(Self {
            days,
            start,
            end,
            tz,
            tz_name,
        })
    }

    /// Whether `at` falls inside the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        let local = self.tz.to_datetime(at);
        let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute()))
            .unwrap_or(u16::MAX);
        let today = Day::of(local.weekday());
        if self.start < self.end {
            self.start <= minute && minute < self.end && self.allows(today)
        } else if minute >= self.start {
            // Inside the part of a midnight-crossing window that started today.
            self.allows(today)
        } else if minute < self.end {
            // After midnight: the window started yesterday.
            self.allows(Day::of(local.weekday().previous()))
        } else {
            false
        }
    }

    fn allows(&self, day: Day) -> bool {
        self.days & day.bit() != 0
    }

    /// The IANA name of the window's time zone.
    pub fn timezone(&self) -> &str {
        &self.tz_name
    }

    /// A one-line description for summaries, e.g. `mon,tue 08:00-18:00 Europe/Berlin`.
    pub fn describe(&self) -> String {
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let days = if self.days == ALL_DAYS {
            "every day".to_owned()
        } else {
            (0..7)
                .filter(|i| self.days & (1 << i) != 0)
                .map(|i| names[i])
                .collect::<Vec<_>>()
                .join(",")
        };
        let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        format!(
            "{days} {}-{} {}",
            hhmm(self.start),
            hhmm(self.end),
            self.tz_name
        )
    }
}

/// Parses strict `"HH:MM"` (two digits each); `"24:00"` only when `is_end`.
fn parse_hhmm(text: &str, is_end: bool) -> Result<u16, String> {
    let bad = || format!("invalid time {text:?}: expected \"HH:MM\" from 00:00 to 23:59");
    let b = text.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
        return Err(bad());
    }
    let h = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
    let m = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
    if is_end && h == 24 && m == 0 {
        return Ok(MINUTES_PER_DAY);
    }
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Resolves an IANA zone name; the name is checked for shape first so no path
/// tricks reach the zoneinfo lookup.
fn resolve_tz(name: &str) -> Result<TimeZone, String> {
    let shape_ok = !name.is_empty()
        && name.len() <= MAX_TZ_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+-/".contains(&b))
        && !name.starts_with('/')
        && !name
            .split('/')
            .any(|seg| seg.is_empty() || seg.starts_with('.'));
    if !shape_ok {
        return Err(format!("unknown time zone {name:?}"));
    }
    TimeZone::get(name).map_err(|_| format!("unknown time zone {name:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::RawHours;

    fn window(days: Option<Vec<Day>>, hours: Option<(&str, &str)>, tz: Option<&str>) -> TimeWindow {
        try_window(days, hours, tz).expect("valid window")
    }

    fn try_window(
        days: Option<Vec<Day>>,
        hours: Option<(&str, &str)>,
        tz: Option<&str>,
    ) -> Result<TimeWindow, (&'static str, String)> {
        TimeWindow::compile(&RawTime {
            days,
            hours: hours.map(|(s, e)| RawHours {
                start: s.into(),
                end: e.into(),
            }),
            timezone: tz.map(Into::into),
        })
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn office_hours_in_berlin() {
        use Day::*;
        let w = window(
            Some(vec![Mon, Tue, Wed, Thu, Fri]),
            Some(("08:00", "18:00")),
            Some("Europe/Berlin"),
        );
        // 2025-01-06 is a Monday; Berlin is UTC+1 in winter, UTC+2 in summer.
        assert!(w.contains(at("2025-01-06T07:00:00Z"))); // 08:00 local, start inclusive
        assert!(!w.contains(at("2025-01-06T06:59:59Z")));
        assert!(w.contains(at("2025-01-06T16:59:59Z")));
        assert!(!w.contains(at("2025-01-06T17:00:00Z"))); // 18:00 local, end exclusive
        assert!(!w.contains(at("2025-01-11T10:00:00Z"))); // Saturday
        assert!(w.contains(at("2025-07-07T06:00:00Z"))); // summer: 08:00 local
        assert!(!w.contains(at("2025-07-07T16:00:00Z"))); // summer: 18:00 local
    }

    #[test]
    fn window_across_midnight_counts_the_start_day() {
        let w = window(Some(vec![Day::Fri]), Some(("22:00", "06:00")), None);
        // 2025-01-10 is a Friday.
        assert!(w.contains(at("2025-01-10T22:00:00Z")));
        assert!(w.contains(at("2025-01-10T23:59:59Z")));
        assert!(w.contains(at("2025-01-11T00:00:00Z"))); // Saturday, started Friday
        assert!(w.contains(at("2025-01-11T05:59:59Z")));
        assert!(!w.contains(at("2025-01-11T06:00:00Z")));
        assert!(!w.contains(at("2025-01-10T03:00:00Z"))); // Friday early: started Thursday
        assert!(!w.contains(at("2025-01-11T22:30:00Z"))); // Saturday night
        assert!(!w.contains(at("2025-01-10T12:00:00Z")));
    }

    #[test]
    fn days_only_and_hours_only() {
        let weekend = window(Some(vec![Day::Sat, Day::Sun]), None, None);
        assert!(weekend.contains(at("2025-01-11T00:00:00Z")));
        assert!(weekend.contains(at("2025-01-12T23:59:59Z")));
        assert!(!weekend.contains(at("2025-01-13T00:00:00Z")));
        let nights = window(None, Some(("20:00", "24:00")), Some("UTC"));
        assert!(nights.contains(at("2025-01-13T23:59:59Z")));
        assert!(!nights.contains(at("2025-01-14T00:00:00Z")));
        assert!(!nights.contains(at("2025-01-14T19:59:00Z")));
    }

    #[test]
    fn load_errors() {
        assert!(try_window(None, None, Some("UTC")).is_err());
        assert!(try_window(Some(vec![]), None, None).is_err());
        assert!(try_window(Some(vec![Day::Mon, Day::Mon]), None, None).is_err());
        assert_eq!(
            try_window(None, Some(("08:00", "08:00")), None)
                .unwrap_err()
                .0,
            "hours"
        );
        assert_eq!(
            try_window(None, Some(("8:00", "18:00")), None)
                .unwrap_err()
                .0,
            "hours.start"
        );
        assert_eq!(
            try_window(None, Some(("08:00", "24:01")), None)
                .unwrap_err()
                .0,
            "hours.end"
        );
        assert_eq!(
            try_window(None, Some(("24:00", "08:00")), None)
                .unwrap_err()
                .0,
            "hours.start"
        );
        assert_eq!(
            try_window(None, Some(("08:00", "18:60")), None)
                .unwrap_err()
                .0,
            "hours.end"
        );
        for tz in [
            "Mars/Olympus",
            "",
            "../etc/passwd",
            "/etc/localtime",
            "Europe//Berlin",
            "Europe/.x",
        ] {
            let err = try_window(None, Some(("08:00", "18:00")), Some(tz)).unwrap_err();
            assert_eq!(err.0, "timezone", "{tz:?}");
        }
    }

    #[test]
    fn describes_itself() {
        let w = window(
            Some(vec![Day::Mon, Day::Fri]),
            Some(("08:00", "18:30")),
            Some("Europe/Berlin"),
        );
        assert_eq!(w.describe(), "mon,fri 08:00-18:30 Europe/Berlin");
        assert_eq!(w.timezone(), "Europe/Berlin");
    }
}

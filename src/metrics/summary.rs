//! Refusals (rate limits, refused connections) logged as one summary line per
//! interval instead of one line each: a flood must not become a log flood
//! (issue #7 item 4 saw 635,690 lines in 22 s). The exact counts are in the
//! metrics; the log says that it happened and how much.
//!
//! Invariant: at most one line per [`SUMMARY_INTERVAL`] however many refusals
//! arrive, and no refusal is dropped from a summary (counts carry over until
//! written).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often refusals are summarised in the log, at most.
pub const SUMMARY_INTERVAL: Duration = Duration::from_secs(10);

/// Counts of refusals since the last summary line.
#[derive(Debug)]
pub struct RefusalSummary {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    counts: BTreeMap<&'static str, u64>,
    last_written: Instant,
}

impl RefusalSummary {
    /// Summaries at most every `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            state: Mutex::new(State {
                counts: BTreeMap::new(),
                last_written: Instant::now(),
            }),
        }
    }

    /// Counts one refusal of `kind` (a fixed name such as `rate_limited.address`)
    /// and writes the summary if one is due.
    pub fn note(&self, kind: &'static str) {
        if let Some(line) = self.note_at(kind, Instant::now()) {
            write(&line);
        }
    }

    /// Writes the summary if one is due and there is something to say.
    pub fn flush(&self) {
        if let Some(line) = self.flush_at(Instant::now()) {
            write(&line);
        }
    }

    fn note_at(&self, kind: &'static str, now: Instant) -> Option<String> {
        {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            *s.counts.entry(kind).or_default() += 1;
        }
        self.flush_at(now)
    }

    /// The summary text if it is due (and resets the counts), else `None`.
    fn flush_at(&self, now: Instant) -> Option<String> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.counts.is_empty() || now.saturating_duration_since(s.last_written) < self.interval {
            return None;
        }
        let text = s
            .counts
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
            .join(" ");
        s.counts.clear();
        s.last_written = now;
        Some(text)
    }
}

/// Written outside any request span: the line is about many requests, not the
/// one that happened to trigger it.
fn write(counts: &str) {
    tracing::warn!(
        parent: None,
        refusals = counts,
        "refused requests and connections since the last summary"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_refusals_make_one_line_per_interval_with_exact_counts() {
        let s = RefusalSummary::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let mut lines = Vec::new();
        for i in 0..10_000u64 {
            // 10,000 refusals spread over 25 s.
            let now = t0 + Duration::from_millis(i * 25 / 10);
            let kind = if i % 2 == 0 {
                "rate_limited.address"
            } else {
                "connections_refused.api.per_address"
            };
            lines.extend(s.note_at(kind, now));
        }
        lines.extend(s.flush_at(t0 + Duration::from_secs(40)));
        assert_eq!(lines.len(), 3, "{lines:?}");
        let total: u64 = lines
            .iter()
            .flat_map(|l| l.split(' '))
            .map(|kv| kv.rsplit('=').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, 10_000, "no refusal is lost: {lines:?}");
        // Nothing new: nothing written.
        assert_eq!(s.flush_at(t0 + Duration::from_secs(100)), None);
    }
}

//! Handles for the series every vend touches, resolved once on first use.
//!
//! `with_label_values` hashes the label values and takes the vector's lock on
//! every call; a vend records up to seven series. Each slot here resolves its
//! series the first time it is used (so `/metrics` shows exactly the series it
//! showed before: none appears before it is first counted) and is a plain
//! atomic update afterwards. Labels outside these sets go through the vectors.

use std::sync::OnceLock;

use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec};

use super::labels::VEND_OUTCOMES;

/// The operations of `tvm_sts_requests_total` and `..._duration_seconds`.
const STS_OPERATIONS: [&str; 2] = ["GetCallerIdentity", "AssumeRole"];

/// The outcomes of `tvm_sts_requests_total`.
const STS_OUTCOMES: [&str; 4] = ["success", "throttled", "rejected", "unavailable"];

/// The route labels of the HTTP metrics (the matched templates, or `unmatched`).
const ROUTES: [&str; 4] = ["/vend", "/profiles", "/.well-known/tvm", "unmatched"];

/// The lazily resolved series.
#[derive(Default)]
pub(super) struct Hot {
    vend: [OnceLock<IntCounter>; VEND_OUTCOMES.len()],
    sts_requests: [[OnceLock<IntCounter>; STS_OUTCOMES.len()]; STS_OPERATIONS.len()],
    sts_duration: [OnceLock<Histogram>; STS_OPERATIONS.len()],
    http_ok: [OnceLock<IntCounter>; ROUTES.len()],
    http_duration: [OnceLock<Histogram>; ROUTES.len()],
}

fn index(set: &[&str], value: &str) -> Option<usize> {
    set.iter().position(|v| *v == value)
}

impl Hot {
    /// `tvm_vend_total{outcome}`.
    pub(super) fn vend(&self, vec: &IntCounterVec, outcome: &str) -> IntCounterRef<'_> {
        match index(&VEND_OUTCOMES, outcome) {
            Some(i) => IntCounterRef::Cached(
                self.vend[i].get_or_init(|| vec.with_label_values(&[outcome])),
            ),
            None => IntCounterRef::Owned(vec.with_label_values(&[outcome])),
        }
    }

    /// `tvm_sts_requests_total{operation,outcome}`.
    pub(super) fn sts_requests(
        &self,
        vec: &IntCounterVec,
        operation: &str,
        outcome: &str,
    ) -> IntCounterRef<'_> {
        match (
            index(&STS_OPERATIONS, operation),
            index(&STS_OUTCOMES, outcome),
        ) {
            (Some(o), Some(r)) => IntCounterRef::Cached(
                self.sts_requests[o][r]
                    .get_or_init(|| vec.with_label_values(&[operation, outcome])),
            ),
            _ => IntCounterRef::Owned(vec.with_label_values(&[operation, outcome])),
        }
    }

    /// `tvm_sts_request_duration_seconds{operation}`.
    pub(super) fn sts_duration(&self, vec: &HistogramVec, operation: &str, seconds: f64) {
        match index(&STS_OPERATIONS, operation) {
            Some(o) => self.sts_duration[o]
                .get_or_init(|| vec.with_label_values(&[operation]))
                .observe(seconds),
            None => vec.with_label_values(&[operation]).observe(seconds),
        }
    }

    /// `tvm_http_requests_total{route,code}` (200s cached) and the duration.
    pub(super) fn http(
        &self,
        requests: &IntCounterVec,
        duration: &HistogramVec,
        route: &str,
        code: http::StatusCode,
        seconds: f64,
    ) {
        let Some(r) = index(&ROUTES, route) else {
            requests.with_label_values(&[route, code.as_str()]).inc();
            duration.with_label_values(&[route]).observe(seconds);
            return;
        };
        if code == http::StatusCode::OK {
            self.http_ok[r]
                .get_or_init(|| requests.with_label_values(&[route, "200"]))
                .inc();
        } else {
            requests.with_label_values(&[route, code.as_str()]).inc();
        }
        self.http_duration[r]
            .get_or_init(|| duration.with_label_values(&[route]))
            .observe(seconds);
    }
}

/// A counter from the cache, or resolved for a label outside it.
pub(super) enum IntCounterRef<'a> {
    Cached(&'a IntCounter),
    Owned(IntCounter),
}

impl IntCounterRef<'_> {
    pub(super) fn inc(&self) {
        match self {
            IntCounterRef::Cached(c) => c.inc(),
            IntCounterRef::Owned(c) => c.inc(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::Opts;

    #[test]
    fn cached_and_uncached_labels_count_the_same_series() {
        let vec = IntCounterVec::new(Opts::new("t", "t"), &["operation", "outcome"]).unwrap();
        let hot = Hot::default();
        hot.sts_requests(&vec, "AssumeRole", "success").inc();
        hot.sts_requests(&vec, "AssumeRole", "success").inc();
        hot.sts_requests(&vec, "Other", "success").inc();
        assert_eq!(vec.with_label_values(&["AssumeRole", "success"]).get(), 2);
        assert_eq!(vec.with_label_values(&["Other", "success"]).get(), 1);
        assert_eq!(vec.with_label_values(&["AssumeRole", "rejected"]).get(), 0);
    }
}

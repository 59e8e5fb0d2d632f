//! Admin handlers: liveness, readiness, Prometheus metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use crate::web::AppState;

/// `GET /livez` and `/healthz`: the process answers.
pub(super) async fn livez() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: 200 when ready, 503 with the reason otherwise.
pub(super) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.readiness().not_ready_reason() {
        None => (StatusCode::OK, "ready\n".to_owned()),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

/// `GET /metrics`: Prometheus text format. Gauges that mirror state owned
/// elsewhere (the replay store) are read at scrape time.
pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Some((entries, capacity)) = state.vendor().verifier().replay_usage() {
        state.metrics().replay_usage(entries, capacity);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(),
    )
}

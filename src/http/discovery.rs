//! `GET /.well-known/tvm`: what a client needs to mint a token. Unauthenticated.

use axum::extract::State;
use axum::Json;

use super::{AppState, Discovery};

/// Returns the static discovery document.
pub(super) async fn discovery(State(state): State<AppState>) -> Json<Discovery> {
    Json(state.0.discovery.clone())
}

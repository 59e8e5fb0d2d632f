//! `tvm serve --check-config`: every start-up check `tvm serve` makes on its
//! files, then exit — 0 when tvm would start, 64 ([`EXIT_CONFIG`]) with the
//! same message `tvm serve` prints otherwise.
//!
//! Checked: the config file with its `TVM_*` overrides (every key, range and
//! combination), the `listen.tls` certificate and key, the Redis URL, password
//! and CA files, the webhook secret files, and the policy with the config's
//! rules for it (approvals and break-glass need `approvals`). Invariant: nothing
//! is bound, served or contacted — no listener, no Redis, database or STS
//! connection, no file written — so it is safe in CI, an init container, or
//! before a rollout.

use std::path::Path;
use std::process::ExitCode;

use crate::exit::EXIT_CONFIG;
use crate::http::TlsAcceptor;
use crate::metrics::Metrics;
use crate::reload::PolicyStore;

/// Runs the checks for the config file `--config` names (the same lookup as
/// `tvm serve`: else `TVM_CONFIG`, else the default path).
pub async fn run(config: Option<&Path>) -> ExitCode {
    match check(config) {
        Ok(summary) => {
            println!("tvm: configuration is valid ({summary})");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tvm: {message}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// A one-line summary, or the message `tvm serve` would exit 64 with. Must run
/// inside a Tokio runtime (the Redis client is built, not connected).
fn check(config: Option<&Path>) -> Result<String, String> {
    let (path, _) = crate::config::config_path(config, std::env::vars());
    let config = crate::config::load(&path, std::env::vars()).map_err(|e| e.to_string())?;
    let metrics = Metrics::new();
    if let Some(files) = &config.listen_tls {
        TlsAcceptor::load(files, metrics.clone())
            .map_err(|e| format!("invalid config at `listen.tls`: {e}"))?;
    }
    if let Some(settings) = &config.state.redis {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        crate::state::redis::RedisState::new(settings, crate::state::StateMetrics::new(&metrics))
            .map_err(|e| format!("invalid config at `state.redis_url`: {e}"))?;
    }
    if let Some(database) = &config.database {
        for (i, w) in database.webhooks.iter().enumerate() {
            crate::approvals::WebhookTarget::load(w)
                .map_err(|e| format!("invalid config at `webhooks[{i}].secret_file`: {e}"))?;
        }
    }
    let policy = PolicyStore::load(&config.policy_file, metrics)
        .and_then(|p| p.with_check(crate::startup::config_policy_check(&config)))
        .map_err(|e| format!("invalid config at `policy.file`: {e}"))?;
    let current = policy.current();
    Ok(format!(
        "{}; policy {}: {} rules",
        path.display(),
        config.policy_file.display(),
        current.rules().len()
    ))
}

//! The start-up sequence of `tvm serve`: read the config file (the path given,
//! else `TVM_CONFIG`, else the default), load the TLS certificate, the policy
//! and the state backend, open the approvals database, build the STS client,
//! bind both listeners, start the identity self-check, and run until SIGTERM
//! or SIGINT.
//!
//! Invariants: every fault in the operator's files exits 64
//! ([`EXIT_CONFIG`]) with the key path before anything is bound; nothing is
//! served before the config, certificate and policy all load.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::net::TcpListener;

use super::run::{run_with_tls, shutdown_signal, Drain};
use super::{build, config_policy_check, open_approvals, Dependencies};
use crate::auth::HyperTransport;
use crate::clock::SystemClock;
use crate::config::ValidatedConfig;
use crate::exit::{EXIT_CONFIG, EXIT_INTERNAL};
use crate::http::TlsAcceptor;
use crate::metrics::Metrics;
use crate::reload::PolicyStore;
use crate::state::redis::RedisState;
use crate::state::{Backend, StateMetrics};
use crate::sts::Sts;

/// `tvm serve` once logging is set up: `config_flag` is the `--config` path,
/// if given.
pub async fn serve(config_flag: Option<&Path>) -> ExitCode {
    let (path, source) = crate::config::config_path(config_flag, std::env::vars());
    tracing::info!(path = %path.display(), from = source.as_str(), "reading config file");
    let config = match crate::config::load(&path, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            eprintln!("tvm: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let metrics = Metrics::new();
    let tls = match config
        .listen_tls
        .as_ref()
        .map(|t| TlsAcceptor::load(t, metrics.clone()))
    {
        None => None,
        Some(Ok(acceptor)) => Some(acceptor),
        Some(Err(e)) => {
            tracing::error!(error = %e, "invalid TLS certificate");
            eprintln!("tvm: invalid config at `listen.tls`: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let policy = match PolicyStore::load(&config.policy_file, metrics.clone())
        .and_then(|p| p.with_check(config_policy_check(&config)))
    {
        Ok(p) => Arc::new(p.with_poll_interval(config.policy_poll_interval)),
        Err(e) => {
            tracing::error!(error = %e, "invalid policy");
            eprintln!("tvm: invalid config at `policy.file`: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let transport = match HyperTransport::for_target(&config.verifier.target) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("tvm: cannot build the STS transport: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    let (state, _probe) = match state_backend(&config, &metrics) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up the state backend");
            eprintln!("tvm: invalid config at `state.redis_url`: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let approvals = match &config.database {
        None => None,
        Some(settings) => match open_approvals(settings).await {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::error!(error = %e, "database unavailable");
                eprintln!("tvm: invalid config at `database`: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
    };
    let sts_url = config.sts_endpoint.as_ref().map(|e| e.to_url());
    let sts: Arc<dyn Sts> =
        Arc::new(crate::sts::aws::AwsSts::new(&config.sts_region, sts_url.as_deref(), None).await);
    let deps = Dependencies {
        clock: Arc::new(SystemClock),
        sts: sts.clone(),
        transport,
        state,
        policy,
        metrics,
        approvals,
    };
    let metrics = deps.metrics.clone();
    let state = build(&config, deps);
    let (api, admin) = match (
        TcpListener::bind(config.listen_addr).await,
        TcpListener::bind(config.admin_addr).await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("tvm: cannot bind listeners: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        api = %config.listen_addr,
        admin = %config.admin_addr,
        tls = tls.is_some(),
        version = env!("CARGO_PKG_VERSION"),
        "tvm serving"
    );
    // Not ready until tvm's own credentials work; the task ends on success and
    // is dropped with the runtime otherwise.
    let _identity = crate::selfcheck::spawn(
        sts,
        state.readiness().clone(),
        metrics,
        crate::selfcheck::Backoff::default(),
    );
    let drain = Drain {
        delay: config.shutdown_delay,
        timeout: config.shutdown_timeout,
    };
    match run_with_tls(state, api, admin, tls, shutdown_signal(), drain).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// The state backend `config` asks for; with Redis, also the probe task that
/// keeps its health current for `/readyz` (aborted when dropped with the runtime).
fn state_backend(
    config: &ValidatedConfig,
    metrics: &Metrics,
) -> Result<(Backend, Option<tokio::task::JoinHandle<()>>), crate::state::redis::SetupError> {
    let Some(settings) = &config.state.redis else {
        tracing::info!(
            backend = "memory",
            "state: replay store and rate limits in this process (one replica)"
        );
        return Ok((Backend::in_memory(config.replay_capacity), None));
    };
    // rustls (for rediss://) needs a process-wide provider; tvm uses aws-lc-rs.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let redis = Arc::new(RedisState::new(settings, StateMetrics::new(metrics))?);
    tracing::info!(
        backend = "redis",
        url = %crate::config::redact_url(&settings.url),
        key_prefix = %settings.key_prefix,
        rate_limit_failure = ?settings.rate_limit_failure,
        "state: replay store and rate limits shared in redis"
    );
    let probe = redis.spawn_probe();
    Ok((Backend::shared(redis), Some(probe)))
}

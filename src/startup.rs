//! Wiring: builds the app from a validated config and runs both listeners until
//! shutdown (`tvm serve`); tests and `tvm dev` use the same [`build`] and [`run`]
//! with their own STS, transport and clock.
//!
//! Shutdown order (SIGTERM/SIGINT): `/readyz` turns 503, wait
//! `server.shutdown_delay` so load balancers notice, stop accepting on the API
//! listener, let in-flight requests finish for up to `server.shutdown_timeout`,
//! then stop the admin listener.
//!
//! Start-up (`tvm serve`): the config file is `--config`, else `TVM_CONFIG`, else
//! `/etc/tvm/tvm.yaml` (logged); `listen.tls` certificates are loaded (a bad pair
//! exits 64) and then watched; tvm's own AWS identity is checked in the
//! background ([`crate::selfcheck`]) and gates `/readyz`.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::{HyperTransport, IdentityTransport, Verifier};
use crate::cli::{ServeArgs, EXIT_CONFIG};
use crate::clock::{Clock, SystemClock};
use crate::config::ValidatedConfig;
use crate::http::{
    admin_router, api_router, serve, AddressLimits, AppParts, AppState, Discovery, Readiness,
    ServeOptions, TlsAcceptor, RELOAD_POLL_INTERVAL,
};
use crate::metrics::Metrics;
use crate::reload::PolicyStore;
use crate::state::redis::RedisState;
use crate::state::{Backend, StateMetrics};
use crate::sts::gate::StsGate;
use crate::sts::Sts;
use crate::vend::{CallerLimits, Vendor};

/// The external dependencies of the app; tests swap them.
#[derive(Clone)]
pub struct Dependencies {
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// AssumeRole.
    pub sts: Arc<dyn Sts>,
    /// Where GetCallerIdentity goes.
    pub transport: Arc<dyn IdentityTransport>,
    /// Replay store and rate buckets (in memory, or shared in Redis).
    pub state: Backend,
    /// The policy being served.
    pub policy: Arc<PolicyStore>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// The database and webhooks, when `database` is configured.
    pub approvals: Option<(
        crate::approvals::Database,
        Vec<crate::approvals::WebhookTarget>,
    )>,
}

/// The start-up and reload check a policy must pass against the config:
/// approval and break-glass rules need `database`, break-glass a webhook.
pub fn policy_check(
    settings: Option<crate::approvals::DatabaseSettings>,
) -> crate::reload::PolicyCheck {
    Arc::new(move |p| match &settings {
        None if p.needs_approvals() => {
            Err("require_approval and break_glass rules need `database.url` in the config".into())
        }
        None => Ok(()),
        Some(s) => s.check_policy(p),
    })
}

/// Opens the database (running migrations) and reads the webhook secrets.
pub async fn open_approvals(
    settings: &crate::approvals::DatabaseSettings,
) -> Result<
    (
        crate::approvals::Database,
        Vec<crate::approvals::WebhookTarget>,
    ),
    String,
> {
    let db = crate::approvals::connect(&settings.url)
        .await
        .map_err(|e| e.to_string())?;
    let mut targets = Vec::new();
    for (i, w) in settings.webhooks.iter().enumerate() {
        targets.push(
            crate::approvals::WebhookTarget::load(w)
                .map_err(|e| format!("webhooks[{i}].secret_file: {e}"))?,
        );
    }
    Ok((db, targets))
}

/// Builds the shared state from the config and dependencies.
pub fn build(config: &ValidatedConfig, deps: Dependencies) -> AppState {
    let gate = StsGate::new(config.sts_cap, &deps.metrics);
    let verifier = Arc::new(Verifier::new(
        config.verifier.clone(),
        deps.clock.clone(),
        deps.state.replay.clone(),
        Arc::new(TimedTransport {
            inner: deps.transport,
            metrics: deps.metrics.clone(),
            gate: gate.clone(),
        }),
    ));
    let mut token_versions = vec!["tvm-v1"];
    if config.verifier.eks_cluster_id.is_some() {
        token_versions.push("k8s-aws-v1");
    }
    let discovery = Discovery {
        audience: config
            .verifier
            .audiences
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect(),
        sts_endpoint: verifier.sts_endpoint(),
        region: config.sts_region.clone(),
        token_versions,
    };
    let readiness = Readiness::default();
    readiness.set_policy_loaded();
    readiness.set_sts_ready();
    if let Some(health) = deps.state.health() {
        readiness.watch_state_backend(health, config.state.readiness_grace);
    }
    let approvals = deps.approvals.map(|(db, webhooks)| {
        crate::approvals::Approvals::new(
            db,
            deps.policy.clone(),
            deps.clock.clone(),
            deps.metrics.clone(),
            webhooks,
        )
    });
    let mut vendor = Vendor::new(
        verifier,
        deps.policy,
        deps.sts,
        config.stamp_prefix.clone(),
        deps.clock.clone(),
        deps.metrics.clone(),
    )
    .with_caller_limits(CallerLimits::new(&deps.state, &config.limits))
    .with_sts_gate(gate);
    if let Some(a) = approvals {
        vendor = vendor.with_approvals(a);
    }
    AppState::new(AppParts {
        vendor,
        metrics: deps.metrics,
        readiness,
        discovery,
        max_body_bytes: config.max_body_bytes,
        request_timeout: config.request_timeout,
        address_limits: AddressLimits::new(&deps.state, &config.limits),
        server_limits: config.limits.clone(),
    })
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

/// Times the GetCallerIdentity forwards. The outcome is counted by the vending
/// pipeline from the verifier's own verdict ([`crate::auth::VerifyError::sts_outcome`]),
/// so the answer is classified once and metric and status cannot disagree.
struct TimedTransport {
    inner: Arc<dyn IdentityTransport>,
    metrics: Metrics,
    /// The per-replica STS call cap, shared with AssumeRole.
    gate: StsGate,
}

#[async_trait::async_trait]
impl IdentityTransport for TimedTransport {
    async fn send(
        &self,
        request: http::Request<()>,
    ) -> Result<crate::auth::TransportResponse, crate::auth::TransportError> {
        let _slot = self
            .gate
            .enter("GetCallerIdentity")
            .await
            .map_err(|_| crate::auth::TransportError::Busy)?;
        let started = std::time::Instant::now();
        let result = self.inner.send(request).await;
        self.metrics
            .sts_latency("GetCallerIdentity", started.elapsed().as_secs_f64());
        result
    }
}

/// How long shutdown may take.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    /// `/readyz` is 503 this long before the API listener closes.
    pub delay: Duration,
    /// In-flight requests get this long to finish.
    pub timeout: Duration,
}

/// Serves both routers on already bound listeners until `shutdown` resolves,
/// then drains (see the module docs).
pub async fn run(
    state: AppState,
    api: TcpListener,
    admin: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    drain: Drain,
) -> std::io::Result<()> {
    run_with_tls(state, api, admin, None, shutdown, drain).await
}

/// [`run`], serving the API over TLS when `tls` is given (the certificate files
/// are watched for changes until the admin listener stops).
pub async fn run_with_tls(
    state: AppState,
    api: TcpListener,
    admin: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send,
    drain: Drain,
) -> std::io::Result<()> {
    let (stop_api, api_stopped) = watch::channel(false);
    let (stop_admin, admin_stopped) = watch::channel(false);
    let until = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let policy = state.vendor().policy().clone();
    let watcher = tokio::spawn(policy.watch(until(admin_stopped.clone())));
    let deliverer = state.approvals().map(|a| {
        let d = crate::approvals::Deliverer::new(a, a.clock(), state.metrics().clone());
        tokio::spawn(d.run(until(admin_stopped.clone())))
    });
    let cert_watcher = tls
        .clone()
        .map(|tls| tokio::spawn(tls.watch(RELOAD_POLL_INTERVAL, until(admin_stopped.clone()))));
    let mut api_task = tokio::spawn(serve(
        api,
        api_router(state.clone()),
        ServeOptions {
            tls: tls.clone(),
            ..state.api_serve_options()
        },
        until(api_stopped),
    ));
    let admin_task = tokio::spawn(serve(
        admin,
        admin_router(state.clone()),
        state.admin_serve_options(),
        until(admin_stopped),
    ));
    tokio::select! {
        _ = shutdown => {}
        res = &mut api_task => {
            // The API server ended by itself: that is an error worth exiting on.
            let _ = stop_admin.send(true);
            watcher.abort();
            if let Some(d) = deliverer {
                d.abort();
            }
            if let Some(w) = cert_watcher {
                w.abort();
            }
            return res.map_err(std::io::Error::other)?;
        }
    }
    state.readiness().begin_shutdown();
    tracing::info!(
        delay_ms = drain.delay.as_millis() as u64,
        "shutdown: readiness off, draining"
    );
    tokio::time::sleep(drain.delay).await;
    let _ = stop_api.send(true);
    match tokio::time::timeout(drain.timeout, &mut api_task).await {
        Ok(res) => res.map_err(std::io::Error::other)??,
        Err(_) => {
            tracing::warn!("shutdown: in-flight requests did not finish in time; closing");
            api_task.abort();
        }
    }
    let _ = stop_admin.send(true);
    let _ = admin_task.await;
    let _ = watcher.await;
    if let Some(d) = deliverer {
        let _ = d.await;
    }
    if let Some(w) = cert_watcher {
        let _ = w.await;
    }
    tracing::info!("shutdown complete");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}

/// `tvm serve --config F`.
pub async fn serve_command(args: ServeArgs) -> ExitCode {
    if let Err(e) = crate::telemetry::init(args.log_format, std::io::stdout) {
        eprintln!("tvm: cannot set up logging: {e}");
        return ExitCode::from(70);
    }
    let (path, source) = crate::config::config_path(args.config.as_deref(), std::env::vars());
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
        .and_then(|p| p.with_check(policy_check(config.database.clone())))
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
            return ExitCode::from(70);
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

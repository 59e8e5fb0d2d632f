//! Serving and draining: runs the API and admin routers on already bound
//! listeners (the API over TLS when given), with the policy watcher, the
//! webhook deliverer, revocation's IAM queue worker and the certificate
//! watcher beside them, until the
//! shutdown future resolves; then drains in the order of the [`super`] docs.
//!
//! Invariants: `/readyz` turns 503 before the API listener stops accepting;
//! in-flight requests get at most [`Drain::timeout`]; the admin listener (and
//! the background tasks) stop last; an API server that ends by itself stops
//! everything and is returned as the error.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::{
    admin_router, api_router, serve, AppState, ServeOptions, TlsAcceptor, RELOAD_POLL_INTERVAL,
};

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
    // The first load before serving, so a healthy start is ready at once
    // (until it succeeds, `/readyz` and every authenticated route refuse).
    if let Some(r) = state.vendor().revocations() {
        if let Err(e) = r.poller().poll_once().await {
            tracing::warn!(error = %e, "revocation blocks not loaded yet");
        }
    }
    let poller = state
        .vendor()
        .revocations()
        .map(|r| tokio::spawn(r.poller().run(until(admin_stopped.clone()))));
    // Retention: prunes ledger, revocation and sign-in rows past their time.
    let pruner = state.vendor().ledger().map(|l| l.spawn_retention());
    // Revocation's per-role IAM queue: one worker per replica, beside the
    // deliverer whose outbox carries its `revocation.failed` webhooks.
    let revocation_iam = state
        .revocation_iam()
        .zip(state.approvals())
        .map(|(iam, a)| {
            let worker = iam.applier(a.webhooks().clone(), state.metrics().clone());
            tokio::spawn(worker.run(
                crate::revocation::iam::DEFAULT_TICK,
                until(admin_stopped.clone()),
            ))
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
            if let Some(p) = poller {
                p.abort();
            }
            if let Some(p) = &pruner {
                p.abort();
            }
            if let Some(w) = revocation_iam {
                w.abort();
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
    if let Some(p) = poller {
        let _ = p.await;
    }
    if let Some(p) = pruner {
        p.abort();
    }
    if let Some(w) = revocation_iam {
        let _ = w.await;
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

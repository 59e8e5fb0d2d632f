//! Wiring: builds the app from a validated config and runs both listeners until
//! shutdown (`tvm serve`); tests and `tvm dev` use the same [`build`] and [`run`]
//! with their own STS, transport and clock. It takes plain values (a config
//! path, a [`ValidatedConfig`], [`Dependencies`]) and never imports a command.
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
//!
//! Layout: this file builds the app state from the config and its
//! dependencies (and times the GetCallerIdentity forwards); `serve` is the
//! start-up sequence of `tvm serve` (load, check, connect, bind); `run` serves
//! bound listeners and drains them.

mod run;
mod serve;

pub use run::{run, run_with_tls, shutdown_signal, Drain};
pub use serve::serve;

use std::sync::Arc;

use crate::auth::{IdentityTransport, Verifier};
use crate::clock::Clock;
use crate::config::ValidatedConfig;
use crate::http::{AddressLimits, AppParts, AppState, Discovery, Readiness};
use crate::metrics::Metrics;
use crate::reload::PolicyStore;
use crate::revocation::{BlockSet, Revocations};
use crate::state::Backend;
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

/// The whole start-up and reload check of a policy against `config`:
/// [`policy_check`], and no profile may vend the revoker role
/// (`revocation.role_name`, DESIGN §13) in any account.
pub fn config_policy_check(config: &ValidatedConfig) -> crate::reload::PolicyCheck {
    let database = policy_check(config.database.clone());
    let revocation = config.revocation.clone();
    Arc::new(move |p| {
        database(p)?;
        match p
            .profiles()
            .find_map(|profile| revocation.refuses_profile_role(&profile.role_arn))
        {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
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
    // The ledger (DESIGN §13) shares the approvals database.
    let ledger = match (&deps.approvals, &config.database) {
        (Some((db, _)), Some(settings)) => Some(crate::ledger::Ledger::new(
            db.clone(),
            settings.ledger_failure,
            settings.retention,
            deps.clock.clone(),
            deps.metrics.clone(),
        )),
        _ => None,
    };
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
        deps.sts.clone(),
        config.stamp_prefix.clone(),
        deps.clock.clone(),
        deps.metrics.clone(),
    )
    .with_caller_limits(CallerLimits::new(&deps.state, &config.limits))
    .with_sts_gate(gate);
    let revocation_iam = approvals.as_ref().map(|a| {
        crate::revocation::iam::IamPolicies::from_settings(
            a.database().pool.clone(),
            config.stamp_prefix.clone(),
            &config.revocation,
            deps.sts.clone(),
            deps.clock.clone(),
        )
    });
    if let Some(a) = approvals {
        // DESIGN §13: the blocks live beside approvals in the database.
        // `database.ledger_failure: open` ranks availability over revocation:
        // stale blocks are served on (with a metric and a line a minute).
        let serve_stale = config
            .database
            .as_ref()
            .is_some_and(|d| d.ledger_failure == crate::config::LedgerFailure::Open);
        let blocks = BlockSet::new(config.revocation.max_staleness, serve_stale);
        readiness.watch_revocations(blocks.clone());
        let revocations = Revocations::new(
            &a,
            vendor.policy().clone(),
            deps.metrics.clone(),
            blocks,
            config.revocation.refresh,
        );
        let revocations = match &revocation_iam {
            Some(iam) => revocations.with_iam(iam.clone()),
            None => revocations,
        };
        vendor = vendor.with_approvals(a).with_revocations(revocations);
    }
    if let Some(l) = ledger {
        vendor = vendor.with_ledger(l);
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
        revocation_iam,
    })
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

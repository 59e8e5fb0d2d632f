//! The `approvals` section (DESIGN §12): the file's [`ApprovalsConfig`], the
//! webhooks as configured ([`WebhookSettings`], [`EVENTS`]), which database a
//! URL names ([`Backend`]), and their validation into [`ApprovalsSettings`].
//!
//! These are plain settings types: the approvals service (`crate::approvals`)
//! builds on them and re-exports them at its own paths. Invariants: a URL
//! names a [`Backend`] only by its scheme, `sqlite:` or `postgres(ql)://`, and
//! Postgres (several replicas) only with shared replay state; a webhook has
//! known events, a secret file, and https (plain http only to loopback);
//! database and webhook URLs may hold secrets, so no caller logs them
//! (webhooks are named by index).

use serde::Deserialize;

use super::{ConfigError, EndpointUrl};

/// `approvals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// `sqlite://PATH` (one replica) or `postgres://…` (several; needs
    /// `state.redis_url`).
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// Notifications.
    #[serde(default)]
    pub webhooks: Vec<WebhookSettings>,
}

/// The default approvals database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:///var/lib/tvm/approvals.db";

fn default_database_url() -> String {
    DEFAULT_DATABASE_URL.to_owned()
}

/// The events a webhook may subscribe to.
pub const EVENTS: [&str; 4] = [
    "request.created",
    "request.approved",
    "request.denied",
    "break_glass.used",
];

/// `approvals.webhooks[]` as configured.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where to POST (a secret: never logged).
    pub url: String,
    /// Subscribed events (of [`EVENTS`]).
    pub events: Vec<String>,
    /// File holding the HMAC secret (a trailing newline is dropped).
    pub secret_file: std::path::PathBuf,
}

/// Validated `approvals` config.
#[derive(Debug, Clone)]
pub struct ApprovalsSettings {
    /// `sqlite://…` or `postgres://…` (a secret when it holds a password: never logged).
    pub database_url: String,
    /// Webhooks.
    pub webhooks: Vec<WebhookSettings>,
}

impl ApprovalsSettings {
    /// Whether a webhook is subscribed to `event`.
    pub fn notifies(&self, event: &str) -> bool {
        self.webhooks
            .iter()
            .any(|w| w.events.iter().any(|e| e == event))
    }
}

/// The approvals database backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one replica.
    Sqlite,
    /// Shared by several replicas.
    Postgres,
}

impl Backend {
    /// The backend `url` names by its scheme, if any.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// `approvals`: the database URL's scheme, Postgres only with shared replay
/// state, webhooks with known events and a secret file.
pub(super) fn validate(
    approvals: Option<&ApprovalsConfig>,
    shared_state: bool,
) -> Result<Option<ApprovalsSettings>, ConfigError> {
    let Some(a) = approvals else {
        return Ok(None);
    };
    let backend = Backend::of_url(&a.database_url).ok_or_else(|| {
        ConfigError::invalid(
            "approvals.database_url",
            "approvals.database_url must start with sqlite:// or postgres://",
        )
    })?;
    if backend == Backend::Postgres && !shared_state {
        return Err(ConfigError::invalid(
            "approvals.database_url",
            "a postgres:// database serves several replicas, which must share the replay store too: set state.redis_url",
        ));
    }
    for (i, w) in a.webhooks.iter().enumerate() {
        let key = |k: &str| format!("approvals.webhooks[{i}].{k}");
        // The bodies name people, profiles and reasons: https, or plain http
        // only to a loopback receiver (a local relay). The scheme and host are
        // checked like an endpoint's; the message never repeats the URL (a
        // secret).
        let (scheme, rest) = w.url.split_once("://").unwrap_or_default();
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        EndpointUrl::parse(&format!("{scheme}://{authority}"))
            .map_err(|m| ConfigError::invalid(&key("url"), m))?;
        if w.events.is_empty() {
            return Err(ConfigError::invalid(&key("events"), "must not be empty"));
        }
        for (j, e) in w.events.iter().enumerate() {
            if !EVENTS.contains(&e.as_str()) {
                return Err(ConfigError::invalid(
                    &format!("approvals.webhooks[{i}].events[{j}]"),
                    format!("unknown event; one of {}", EVENTS.join(", ")),
                ));
            }
        }
        if w.secret_file.as_os_str().is_empty() {
            return Err(ConfigError::invalid(
                &key("secret_file"),
                "must not be empty",
            ));
        }
    }
    Ok(Some(ApprovalsSettings {
        database_url: a.database_url.clone(),
        webhooks: a.webhooks.clone(),
    }))
}

//! The `approvals` section (DESIGN §12): the file's [`ApprovalsConfig`], the
//! webhooks as configured ([`WebhookSettings`], [`EVENTS`]), the validated
//! [`ApprovalsSettings`], and which database a URL names ([`Backend`]).
//!
//! These are plain settings types: the approvals service (`crate::approvals`)
//! builds on them and re-exports them at its own paths. Invariants: a URL
//! names a [`Backend`] only by its scheme, `sqlite:` or `postgres(ql)://`;
//! database and webhook URLs may hold secrets, so no caller logs them
//! (webhooks are named by index).

use serde::Deserialize;

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

//! The `database` section and the top-level `webhooks` list (DESIGN §13,
//! "Database and webhooks keys"; §12 for the webhooks): the file's
//! [`DatabaseConfig`], the webhooks as configured ([`WebhookSettings`],
//! [`EVENTS`]), which database a URL names ([`Backend`]), and their validation
//! into [`DatabaseSettings`].
//!
//! These are plain settings types: the approvals service (`crate::approvals`)
//! builds on them and re-exports them at its own paths. Invariants: a database
//! turns on approvals (and, later, the ledger and revocation) and has no
//! default; a URL names a [`Backend`] only by its scheme, `sqlite:` or
//! `postgres(ql)://`, and Postgres (several replicas) only with shared replay
//! state; webhooks need the database (their outbox lives there); a webhook has
//! known events, a secret file, and https (plain http only to loopback);
//! `database.retention` is at least [`MIN_RETENTION`]; database and webhook
//! URLs may hold secrets, so no caller logs them (webhooks are named by index).

use std::time::Duration;

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer};

use super::duration::duration_in;
use super::{ConfigError, EndpointUrl};

/// `database`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (one replica) or `postgres://…` (several; needs
    /// `state.redis_url`). No default.
    pub url: String,
    /// How long ledger and audit rows are kept.
    #[serde(default = "default_retention")]
    pub retention: RetentionDuration,
    /// What a vend does when its ledger row cannot be written.
    #[serde(default)]
    pub ledger_failure: LedgerFailure,
}

/// `database.ledger_failure`: what a vend does when its ledger row cannot be
/// written (DESIGN §13).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LedgerFailure {
    /// Refuse the vend (503 `UNAVAILABLE`, STS not called): every credential
    /// tvm hands out is in the ledger, so every one can be revoked.
    #[default]
    Closed,
    /// Serve the vend without a ledger row while the database is down (the
    /// decision line still records it): availability over revocation.
    Open,
}

/// The default of `database.retention` (DESIGN §13).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 86_400);

/// The shortest `database.retention`: 36 h, the longest any AWS temporary
/// credential lives, so a ledger row (and the caller keys a `person`
/// revocation collects from the last 36 h) outlives every credential it
/// describes.
pub const MIN_RETENTION: Duration = Duration::from_secs(36 * 3_600);

/// The longest `database.retention` (ten years): a bound so that a typo
/// cannot overflow the arithmetic of a pruning cut-off.
pub const MAX_RETENTION: Duration = Duration::from_secs(3_650 * 86_400);

fn default_retention() -> RetentionDuration {
    RetentionDuration(SignedDuration::from_secs(DEFAULT_RETENTION.as_secs() as i64))
}

/// A retention written as `90d` (whole days) or as any duration the rest of
/// the config takes (`36h`, `2160h`): jiff's own duration parser refuses days,
/// which are not always 24 h long in a time zone, but a retention is plain
/// elapsed time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDuration(pub SignedDuration);

impl<'de> Deserialize<'de> for RetentionDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let days = s
            .strip_suffix('d')
            .filter(|n| !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i64>().ok());
        match days {
            Some(n) => Ok(RetentionDuration(SignedDuration::from_hours(n * 24))),
            None => s
                .parse::<SignedDuration>()
                .map(RetentionDuration)
                .map_err(|_| {
                    serde::de::Error::custom(format!("`{s}` is not a duration like 90d or 36h"))
                }),
        }
    }
}

/// The events a webhook may subscribe to.
pub const EVENTS: [&str; 8] = [
    "request.created",
    "request.approved",
    "request.denied",
    "break_glass.used",
    "revocation.failed",
    "revocation.created",
    "revocation.lifted",
    "session.ended",
];

/// `webhooks[]` as configured.
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

/// Validated `database` and `webhooks`: what turns on approvals.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…` (a secret when it holds a password: never logged).
    pub url: String,
    /// How long ledger and audit rows are kept, within
    /// [`MIN_RETENTION`]..=[`MAX_RETENTION`]; the ledger's pruning task
    /// (`crate::ledger`) reads it from here.
    pub retention: Duration,
    /// What a vend does when its ledger row cannot be written.
    pub ledger_failure: LedgerFailure,
    /// Webhooks (the top-level `webhooks`).
    pub webhooks: Vec<WebhookSettings>,
}

impl DatabaseSettings {
    /// Whether a webhook is subscribed to `event`.
    pub fn notifies(&self, event: &str) -> bool {
        self.webhooks
            .iter()
            .any(|w| w.events.iter().any(|e| e == event))
    }
}

/// The database backend a URL names.
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

/// `database` and `webhooks`: the URL's scheme, Postgres only with shared
/// replay state, the retention's range, webhooks only with a database and
/// with known events and a secret file.
pub(super) fn validate(
    database: Option<&DatabaseConfig>,
    webhooks: &[WebhookSettings],
    shared_state: bool,
) -> Result<Option<DatabaseSettings>, ConfigError> {
    let Some(d) = database else {
        if !webhooks.is_empty() {
            return Err(ConfigError::invalid(
                "webhooks",
                "webhooks need database.url: deliveries go through an outbox in the database",
            ));
        }
        return Ok(None);
    };
    let backend = Backend::of_url(&d.url).ok_or_else(|| {
        ConfigError::invalid(
            "database.url",
            "database.url must start with sqlite:// or postgres://",
        )
    })?;
    if backend == Backend::Postgres && !shared_state {
        return Err(ConfigError::invalid(
            "database.url",
            "a postgres:// database serves several replicas, which must share the replay store too: set state.redis_url",
        ));
    }
    let retention = duration_in(
        "database.retention",
        d.retention.0,
        signed(MIN_RETENTION),
        signed(MAX_RETENTION),
    )?;
    for (i, w) in webhooks.iter().enumerate() {
        validate_webhook(i, w)?;
    }
    Ok(Some(DatabaseSettings {
        url: d.url.clone(),
        retention,
        ledger_failure: d.ledger_failure,
        webhooks: webhooks.to_vec(),
    }))
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::from_secs(d.as_secs() as i64)
}

fn validate_webhook(i: usize, w: &WebhookSettings) -> Result<(), ConfigError> {
    let key = |k: &str| format!("webhooks[{i}].{k}");
    // The bodies name people, profiles and reasons: https, or plain http only
    // to a loopback receiver (a local relay). The scheme and host are checked
    // like an endpoint's; the message never repeats the URL (a secret).
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
                &format!("webhooks[{i}].events[{j}]"),
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
    Ok(())
}

#[cfg(test)]
mod tests;

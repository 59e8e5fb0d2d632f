//! `tvm revocations lift --config F ID --reason TEXT` (DESIGN §13): the
//! recovery when no admin is left — it lifts on the database named by the
//! config directly, with its audit row and `revocation.lifted` webhook, and
//! every replica picks the change up on its next poll.
//!
//! Invariants: nothing here authenticates (whoever can read the config and
//! reach its database already holds everything tvm stores); the lift rules
//! are the service's ([`crate::revocation::lift_offline`]): only a suspension
//! or a `credentials` key block ends, nothing left is an error; the answer
//! is the revocation object as JSON, the database URL is never printed.

use std::path::Path;
use std::process::ExitCode;

use crate::exit::{EXIT_CONFIG, EXIT_INTERNAL};
use crate::revocation::{lift_offline, RevocationError};

/// Exit status of a lift refused (unknown id, nothing left to lift).
const EXIT_REFUSED: u8 = 1;

/// Lifts revocation `id` on the database of the config at `config` (or the
/// default config path).
pub async fn lift(config: Option<&Path>, id: &str, reason: &str) -> ExitCode {
    let (path, _) = crate::config::config_path(config, std::env::vars());
    let config = match crate::config::load(&path, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tvm: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let Some(settings) = &config.database else {
        eprintln!(
            "tvm: {}: no database.url, so nothing is revoked",
            path.display()
        );
        return ExitCode::from(EXIT_CONFIG);
    };
    let (db, targets) = match crate::startup::open_approvals(settings).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("tvm: the database cannot be opened: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    let webhooks = crate::approvals::Webhooks::new(targets);
    let now = jiff::Timestamp::now().as_second();
    match lift_offline(&db, &webhooks, id, reason, now).await {
        Ok(view) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&view).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(RevocationError::NotFound) => {
            eprintln!("tvm: no revocation {id}");
            ExitCode::from(EXIT_REFUSED)
        }
        Err(RevocationError::Conflict(m)) => {
            eprintln!("tvm: revocation {id}: {m}");
            ExitCode::from(EXIT_REFUSED)
        }
        Err(RevocationError::Invalid(m)) => {
            eprintln!("tvm: {m}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(e) => {
            eprintln!("tvm: {e}");
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_offline_lift_needs_a_config_with_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.yaml");
        assert_eq!(
            lift(Some(&missing), "0123456789abcdef", "x").await,
            ExitCode::from(EXIT_CONFIG)
        );
    }
}

//! Keys that moved (DESIGN §13, "Database and webhooks keys"): the old
//! `approvals.database_url` and `approvals.webhooks`, in the file or as
//! `TVM_APPROVALS__*` variables, are refused with the key to write instead.
//!
//! Invariants: a config that still names an old key never starts (exit 64,
//! not a silent "no database"), whether the key comes from the file or a
//! variable; a variable's error names the variable to set instead; messages
//! never repeat a value (a database URL may hold a password).

use serde_yaml_ng::Value;

use super::ConfigError;

/// The removed section.
const OLD_SECTION: &str = "approvals";

/// What to write instead of the old key `approvals.{sub}`, for a file.
fn file_advice(sub: &str) -> (String, String) {
    match sub {
        "database_url" => (
            "approvals.database_url".into(),
            "approvals.database_url moved to database.url: write `database: {url: …}` \
             (the database turns on approvals)"
                .into(),
        ),
        "webhooks" => (
            "approvals.webhooks".into(),
            "approvals.webhooks moved to webhooks: the same list, at the top level".into(),
        ),
        _ => (
            OLD_SECTION.into(),
            "the approvals section was removed: database.url turns on approvals, and \
             webhooks is a top-level list"
                .into(),
        ),
    }
}

/// Refuses the removed `approvals` section of the file, naming the key that
/// replaces what it holds.
pub(super) fn refuse_approvals_section(approvals: Option<&Value>) -> Result<(), ConfigError> {
    let Some(value) = approvals else {
        return Ok(());
    };
    let first = match value {
        Value::Mapping(map) => ["database_url", "webhooks"]
            .into_iter()
            .find(|k| map.contains_key(*k)),
        _ => None,
    };
    let (key, message) = file_advice(first.unwrap_or(""));
    Err(ConfigError::invalid(&key, message))
}

/// Refuses an override variable (`TVM_APPROVALS__DATABASE_URL`) of the removed
/// section, naming the variable or key to set instead. `path` is the
/// variable's key path, lowercased.
pub(super) fn refuse_variable(var: &str, path: &[String]) -> Result<(), ConfigError> {
    if path.first().map(String::as_str) != Some(OLD_SECTION) {
        return Ok(());
    }
    let sub = path.get(1).map(String::as_str).unwrap_or("");
    let (key, message) = match sub {
        "database_url" => (
            "approvals.database_url".to_owned(),
            format!("{var}: approvals.database_url moved to database.url: set TVM_DATABASE__URL instead"),
        ),
        "webhooks" => (
            "approvals.webhooks".to_owned(),
            format!(
                "{var}: approvals.webhooks moved to the top-level webhooks, which only the \
                 config file sets (override variables name nested keys)"
            ),
        ),
        _ => {
            let (key, message) = file_advice(sub);
            (key, format!("{var}: {message}"))
        }
    };
    Err(ConfigError::invalid(&key, message))
}

//! `database`, `webhooks` and the moved `approvals.*` keys (DESIGN §13).

use std::time::Duration;

use crate::config::{from_yaml, ConfigError, DEFAULT_RETENTION};

const BASE: &str = "auth: {audience: https://tvm.example.com}\npolicy: {file: p}\n";
const REDIS: &str = "state: {redis_url: 'redis://redis.example:6379'}\n";
const HOOK: &str = "[{url: 'https://hooks.example.com/T0KEN', events: [break_glass.used], \
                    secret_file: /etc/tvm/hook}]";

fn load(extra: &str, vars: &[(&str, &str)]) -> Result<crate::config::ValidatedConfig, ConfigError> {
    let env = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    from_yaml(&format!("{BASE}{extra}"), env)
}

/// The refused key and the whole message.
fn refused(extra: &str, vars: &[(&str, &str)]) -> (String, String) {
    let err = load(extra, vars).expect_err("must be refused");
    let text = err.to_string();
    match err {
        ConfigError::Invalid { key, .. } => (key, text),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn no_database_by_default_and_a_database_with_its_defaults() {
    assert!(load("", &[]).unwrap().database.is_none(), "no default URL");
    let d = load("database: {url: 'sqlite:///var/lib/tvm/tvm.db'}\n", &[])
        .unwrap()
        .database
        .unwrap();
    assert_eq!(d.url, "sqlite:///var/lib/tvm/tvm.db");
    assert_eq!(d.retention, DEFAULT_RETENTION);
    assert_eq!(DEFAULT_RETENTION, Duration::from_secs(90 * 86_400));
    assert!(d.webhooks.is_empty());
    // `database: {}` is not "the default database": the URL is required.
    assert_eq!(refused("database: {}\n", &[]).0, "database");
}

#[test]
fn the_url_comes_from_tvm_database_url() {
    let d = load(
        REDIS,
        &[("TVM_DATABASE__URL", "postgres://tvm:pw@db.example/tvm")],
    )
    .unwrap()
    .database
    .unwrap();
    assert_eq!(d.url, "postgres://tvm:pw@db.example/tvm");
}

#[test]
fn the_url_names_sqlite_or_postgres_and_postgres_needs_shared_state() {
    let (key, msg) = refused("database: {url: 'mysql://x'}\n", &[]);
    assert_eq!(key, "database.url", "{msg}");
    let (key, msg) = refused("database: {url: 'postgres://tvm:pw@db/tvm'}\n", &[]);
    assert_eq!(key, "database.url");
    assert!(
        msg.contains("state.redis_url") && !msg.contains("pw@"),
        "{msg}"
    );
    load(
        &format!("{REDIS}database: {{url: 'postgres://db/tvm'}}\n"),
        &[],
    )
    .unwrap();
}

#[test]
fn retention_is_at_least_36h() {
    for (written, secs) in [
        ("36h", 36 * 3_600),
        ("2d", 2 * 86_400),
        ("365d", 365 * 86_400),
    ] {
        let d = load(
            &format!("database: {{url: 'sqlite://x', retention: {written}}}\n"),
            &[],
        )
        .unwrap()
        .database
        .unwrap();
        assert_eq!(d.retention, Duration::from_secs(secs), "{written}");
    }
    for written in ["1h", "35h59m", "1d", "0d", "-90d", "0s", "100000d"] {
        let (key, msg) = refused(
            &format!("database: {{url: 'sqlite://x', retention: '{written}'}}\n"),
            &[],
        );
        assert_eq!(key, "database.retention", "{written}: {msg}");
    }
    for written in ["ninety days", "d", "1.5d", "90 d"] {
        let (key, _) = refused(
            &format!("database: {{url: 'sqlite://x', retention: '{written}'}}\n"),
            &[],
        );
        assert_eq!(key, "database.retention", "{written}");
    }
    let (key, _) = refused(
        "database: {url: 'sqlite://x'}\n",
        &[("TVM_DATABASE__RETENTION", "1h")],
    );
    assert_eq!(key, "database.retention");
}

#[test]
fn webhooks_are_top_level_and_need_the_database() {
    let d = load(
        &format!("database: {{url: 'sqlite://x'}}\nwebhooks: {HOOK}\n"),
        &[],
    )
    .unwrap()
    .database
    .unwrap();
    assert!(d.notifies("break_glass.used") && !d.notifies("request.created"));
    let (key, msg) = refused(&format!("webhooks: {HOOK}\n"), &[]);
    assert_eq!(key, "webhooks", "{msg}");
    assert!(msg.contains("database.url"), "{msg}");
    let (key, msg) = refused(
        "database: {url: 'sqlite://x'}\nwebhooks: [{url: 'http://hooks.example.com/T0KEN', \
         events: [break_glass.used], secret_file: f}]\n",
        &[],
    );
    assert_eq!(key, "webhooks[0].url");
    assert!(!msg.contains("T0KEN"), "a webhook URL is a secret: {msg}");
    let (key, _) = refused(
        "database: {url: 'sqlite://x'}\nwebhooks: [{url: 'https://h.example', \
         events: [request.eaten], secret_file: f}]\n",
        &[],
    );
    assert_eq!(key, "webhooks[0].events[0]");
}

#[test]
fn the_old_approvals_keys_name_the_new_ones() {
    for (extra, key, new) in [
        (
            "approvals: {database_url: 'sqlite:///var/lib/tvm/approvals.db'}\n".to_owned(),
            "approvals.database_url",
            "database.url",
        ),
        (
            // Refused for its new name before its blank value is.
            "approvals: {database_url: ''}\n".to_owned(),
            "approvals.database_url",
            "database.url",
        ),
        (
            format!("approvals: {{webhooks: {HOOK}}}\n"),
            "approvals.webhooks",
            "moved to webhooks",
        ),
        ("approvals: {}\n".to_owned(), "approvals", "database.url"),
        ("approvals: null\n".to_owned(), "approvals", "database.url"),
    ] {
        let (got, msg) = refused(&extra, &[]);
        assert_eq!(got, key, "{extra}: {msg}");
        assert!(msg.contains(new), "{extra}: {msg}");
        assert!(
            !msg.contains("approvals.db") && !msg.contains("T0KEN"),
            "{msg}"
        );
    }
}

#[test]
fn the_old_variables_name_the_new_ones() {
    for (var, key, new) in [
        (
            "TVM_APPROVALS__DATABASE_URL",
            "approvals.database_url",
            "TVM_DATABASE__URL",
        ),
        (
            "TVM_APPROVALS__WEBHOOKS",
            "approvals.webhooks",
            "top-level webhooks",
        ),
    ] {
        // Whatever the value, even a blank one or with a valid database set.
        for value in ["postgres://tvm:pw@db/tvm", ""] {
            let (got, msg) = refused(
                &format!("{REDIS}database: {{url: 'sqlite://x'}}\n"),
                &[(var, value)],
            );
            assert_eq!(got, key, "{var}: {msg}");
            assert!(msg.contains(var) && msg.contains(new), "{msg}");
            assert!(!msg.contains("pw@"), "a URL may hold a password: {msg}");
        }
    }
}

#[test]
fn a_ledger_failure_is_closed_unless_set_open() {
    use crate::config::LedgerFailure;
    let d = |extra: &str| load(extra, &[]).unwrap().database.unwrap();
    assert_eq!(
        d("database: {url: 'sqlite://x'}\n").ledger_failure,
        LedgerFailure::Closed
    );
    assert_eq!(
        d("database: {url: 'sqlite://x', ledger_failure: open}\n").ledger_failure,
        LedgerFailure::Open
    );
    assert_eq!(
        d("database: {url: 'sqlite://x', ledger_failure: closed}\n").ledger_failure,
        LedgerFailure::Closed
    );
    assert!(load(
        "database: {url: 'sqlite://x', ledger_failure: maybe}\n",
        &[]
    )
    .is_err());
}

//! What `tvm bench --database` compares: one `tvm serve` per setup, run in
//! turn against the same upstream — tvm without a database, then with the
//! ledger on each database asked for, each beside a baseline that differs
//! only by the database (a Postgres-backed tvm needs Redis for its replay
//! store, so its baseline uses the same Redis without a database).
//!
//! Invariants: a setup changes only `database` (and `state.redis_url` for
//! Postgres) in the bench's config; the URLs may hold passwords, so only
//! the label (`sqlite`, `postgres`) is ever printed.

use std::path::Path;

use super::error::BenchError;

/// One `tvm serve` to measure.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// The report's `target`: `tvm`, `tvm+redis`, `tvm+sqlite`, `tvm+postgres`.
    pub(crate) label: &'static str,
    /// `database.url`, if any.
    pub(crate) database: Option<String>,
    /// `state.redis_url`, if any.
    pub(crate) redis: Option<String>,
}

impl Setup {
    /// The `database` section this setup adds (empty without one).
    pub(crate) fn database_yaml(&self) -> String {
        self.database.as_ref().map_or(String::new(), |url| {
            format!("database: {{url: {}}}\n", quoted(url))
        })
    }

    /// The fields this setup adds to the `state` section.
    pub(crate) fn state_fields(&self) -> String {
        self.redis
            .as_ref()
            .map_or(String::new(), |url| format!(", redis_url: {}", quoted(url)))
    }
}

/// A YAML double-quoted string.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The setups for `databases` (`sqlite` or `postgres://…`), in run order;
/// the first is always plain tvm.
pub(crate) fn setups(
    databases: &[String],
    redis: Option<&str>,
    dir: &Path,
) -> Result<Vec<Setup>, BenchError> {
    let mut out = vec![Setup {
        label: "tvm",
        database: None,
        redis: None,
    }];
    for db in databases {
        if db == "sqlite" {
            out.push(Setup {
                label: "tvm+sqlite",
                database: Some(format!("sqlite://{}", dir.join("ledger.db").display())),
                redis: None,
            });
        } else if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            let redis = redis.ok_or_else(|| {
                BenchError::Usage(
                    "a postgres:// database needs --redis-url (tvm serve shares its replay store through Redis with Postgres)".into(),
                )
            })?;
            for (label, database) in [("tvm+redis", None), ("tvm+postgres", Some(db.clone()))] {
                out.push(Setup {
                    label,
                    database,
                    redis: Some(redis.to_owned()),
                });
            }
        } else {
            return Err(BenchError::Usage(
                "--database takes sqlite or a postgres:// URL".into(),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_database_runs_beside_a_baseline_that_differs_only_by_it() {
        let dir = Path::new("/tmp/b");
        let s = setups(
            &["sqlite".into(), "postgres://u:pw@db/tvm".into()],
            Some("redis://127.0.0.1:1"),
            dir,
        )
        .unwrap();
        let labels: Vec<&str> = s.iter().map(|s| s.label).collect();
        assert_eq!(labels, ["tvm", "tvm+sqlite", "tvm+redis", "tvm+postgres"]);
        assert_eq!(
            (s[0].database_yaml(), s[0].state_fields()),
            (String::new(), String::new())
        );
        assert_eq!(
            (s[1].database_yaml(), s[1].state_fields()),
            (
                "database: {url: \"sqlite:///tmp/b/ledger.db\"}\n".into(),
                String::new()
            )
        );
        assert_eq!(
            (s[2].database_yaml(), s[2].state_fields()),
            (String::new(), ", redis_url: \"redis://127.0.0.1:1\"".into())
        );
        assert!(s[3].database_yaml().contains("postgres://u:pw@db/tvm"));
        assert_eq!(s[3].state_fields(), s[2].state_fields());
        assert!(matches!(
            setups(&["postgres://x".into()], None, dir),
            Err(BenchError::Usage(_))
        ));
        assert!(matches!(
            setups(&["mysql://x".into()], None, dir),
            Err(BenchError::Usage(_))
        ));
    }
}

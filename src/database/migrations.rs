//! The versioned migrations in `migrations/`, embedded in the binary and run
//! at start-up.
//!
//! Invariants: the schema is written in portable SQL so both backends run
//! the same statements (`$N` placeholders, BIGINT unix seconds, TEXT ids),
//! except where DDL cannot be (an autoincrement column): such a migration has
//! one file per backend under one number, and each database only ever sees
//! its own; migrations are applied in order, each once; every part that
//! stores rows (approvals, the approvers' web page, and with DESIGN §13 the
//! ledger, audit and revocations) adds its own numbered files here.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::AnyPool;

use super::backend::Backend;

/// One embedded migration: its version, description, and its SQL for each
/// backend (the same text when the SQL is portable).
struct Step {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// The embedded migrations, in order (add new numbered files here). Most are
/// portable SQL; one whose DDL differs per backend (an autoincrement column)
/// has a `.sqlite.sql` and a `.postgres.sql` file under the same number.
const MIGRATIONS: &[Step] = &[
    Step {
        version: 1,
        description: "approvals",
        sqlite: include_str!("../../migrations/0001_approvals.sql"),
        postgres: include_str!("../../migrations/0001_approvals.sql"),
    },
    Step {
        version: 2,
        description: "ui sign-in",
        sqlite: include_str!("../../migrations/0002_ui_sign_in.sql"),
        postgres: include_str!("../../migrations/0002_ui_sign_in.sql"),
    },
    Step {
        version: 3,
        description: "audit sequence",
        sqlite: include_str!("../../migrations/0003_audit_seq.sqlite.sql"),
        postgres: include_str!("../../migrations/0003_audit_seq.postgres.sql"),
    },
    Step {
        version: 4,
        description: "ledger and revocations",
        sqlite: include_str!("../../migrations/0004_ledger_revocations.sql"),
        postgres: include_str!("../../migrations/0004_ledger_revocations.sql"),
    },
    Step {
        version: 5,
        description: "ledger replaces grant_vends",
        sqlite: include_str!("../../migrations/0005_ledger_replaces_grant_vends.sql"),
        postgres: include_str!("../../migrations/0005_ledger_replaces_grant_vends.sql"),
    },
    Step {
        version: 6,
        description: "revocation lift and page sessions",
        sqlite: include_str!("../../migrations/0006_revocation_lift.sql"),
        postgres: include_str!("../../migrations/0006_revocation_lift.sql"),
    },
    Step {
        version: 7,
        description: "revocation roles expiry",
        sqlite: include_str!("../../migrations/0007_revocation_roles_expiry.sql"),
        postgres: include_str!("../../migrations/0007_revocation_roles_expiry.sql"),
    },
    Step {
        version: 8,
        description: "audit events",
        sqlite: include_str!("../../migrations/0008_audit_events.sqlite.sql"),
        postgres: include_str!("../../migrations/0008_audit_events.postgres.sql"),
    },
    Step {
        version: 9,
        description: "ledger lean indexes",
        sqlite: include_str!("../../migrations/0009_ledger_lean_indexes.sql"),
        postgres: include_str!("../../migrations/0009_ledger_lean_indexes.sql"),
    },
    Step {
        version: 10,
        description: "audit unused indexes",
        sqlite: include_str!("../../migrations/0010_audit_unused_indexes.sqlite.sql"),
        postgres: include_str!("../../migrations/0010_audit_unused_indexes.postgres.sql"),
    },
];

/// Applies the migrations `pool` has not seen yet, in order, with the SQL of
/// `backend`.
pub(super) async fn run(
    pool: &AnyPool,
    backend: Backend,
) -> Result<(), sqlx::migrate::MigrateError> {
    let migrator = Migrator {
        migrations: Cow::Owned(
            MIGRATIONS
                .iter()
                .map(|m| {
                    let sql = match backend {
                        Backend::Sqlite => m.sqlite,
                        Backend::Postgres => m.postgres,
                    };
                    Migration::new(
                        m.version,
                        Cow::Borrowed(m.description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    migrator.run(pool).await
}

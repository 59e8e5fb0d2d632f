//! DESIGN §13's per-role IAM queue on a shared database: two workers (two
//! replicas) on one SQLite file and on one Postgres never both write a role
//! — the lease admits one — and a burst on one role is coalesced.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tvm::clock::SystemClock;
use tvm::config::DeploymentId;
use tvm::identity::StampPrefix;
use tvm::metrics::Metrics;
use tvm::revocation::iam::{Iam, IamAccess, IamError, IamPolicies, Naming, OnBehalf, RoleRef};

const ROLE: &str = "arn:aws:iam::111122223333:role/TvmProdAdmin";

/// An IAM whose calls take a while, so two workers would overlap if both
/// held the role; counts writes.
#[derive(Default)]
struct SlowIam {
    puts: AtomicUsize,
    in_flight: AtomicUsize,
    overlapped: AtomicUsize,
}

#[async_trait]
impl Iam for SlowIam {
    async fn get_role_policy(&self, _: &str, _: &str) -> Result<Option<String>, IamError> {
        Ok(None)
    }
    async fn put_role_policy(&self, _: &str, _: &str, _: &str) -> Result<(), IamError> {
        if self.in_flight.fetch_add(1, Ordering::SeqCst) > 0 {
            self.overlapped.fetch_add(1, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.puts.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn delete_role_policy(&self, _: &str, _: &str) -> Result<(), IamError> {
        Ok(())
    }
}

struct Access(Arc<SlowIam>);

#[async_trait]
impl IamAccess for Access {
    async fn connect(&self, _: &RoleRef, _: &OnBehalf) -> Result<Arc<dyn Iam>, IamError> {
        Ok(self.0.clone())
    }
}

fn policies(pool: sqlx::AnyPool, iam: &Arc<SlowIam>) -> IamPolicies {
    IamPolicies::new(
        pool,
        Naming::new(
            StampPrefix::parse("tvm").unwrap(),
            DeploymentId::parse("prod").unwrap(),
        ),
        Some(Arc::new(Access(iam.clone()))),
        Arc::new(SystemClock),
    )
}

/// One revoked live session on ROLE and its queue row, as a revoking
/// transaction leaves them.
async fn revoke(pool: &sqlx::AnyPool, n: u32) {
    let now = jiff::Timestamp::now().as_second();
    let id = format!("{n:016x}");
    let request_id = format!("{n:012x}");
    sqlx::query(
        "INSERT INTO revocations (id, kind, target_type, target, reason, by_arn, by_user_id, \
         self_service, suspends, created_at, request_id) VALUES ($1, 'session', 'SessionId', \
         't', 'r', 'arn:aws:iam::111122223333:user/ops/admin', 'AIDA', 0, 0, $2, 'aaaaaaaaaaaa')",
    )
    .bind(&id)
    .bind(now)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sessions (row_id, access_key_id, state, request_id, created_at, expires_at, \
         caller_arn, caller_user_id, caller_account, caller_access_key_id, client_address, \
         username, profile, role_arn, kind, source_identity, session_name, revocation_id, \
         revoked_at) VALUES ($1, $2, 'issued', $3, $4, $5, 'arn', 'AIDA', '111122223333', \
         'AKIA', '127.0.0.1', 'alice', 'prod-admin', $6, 'direct', $7, $8, $9, $4)",
    )
    .bind(format!("row{n}"))
    .bind(format!("ASIA{n:016}"))
    .bind(&request_id)
    .bind(now)
    .bind(now + 3600)
    .bind(ROLE)
    .bind(format!("tvm.alice.direct.{request_id}"))
    .bind(format!("tvm-alice-{request_id}"))
    .bind(&id)
    .execute(pool)
    .await
    .unwrap();
    let bumped = sqlx::query(
        "UPDATE revocation_roles SET desired_version = desired_version + 1 WHERE role_arn = $1",
    )
    .bind(ROLE)
    .execute(pool)
    .await
    .unwrap();
    if bumped.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO revocation_roles (role_arn, desired_version, applied_version, status, \
             updated_at) VALUES ($1, 1, 0, 'pending', $2)",
        )
        .bind(ROLE)
        .bind(now)
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn two_workers_one_writer(url: &str) {
    let a = tvm::database::connect(url).await.unwrap();
    let b = tvm::database::connect(url).await.unwrap();
    let iam = Arc::new(SlowIam::default());
    for n in 1..=20 {
        revoke(&a.pool, n).await;
    }
    let wa = policies(a.pool.clone(), &iam).applier_with_targets(Vec::new(), Metrics::new());
    let wb = policies(b.pool.clone(), &iam).applier_with_targets(Vec::new(), Metrics::new());
    let (ra, rb) = tokio::join!(wa.once(), wb.once());
    assert_eq!(ra.unwrap() + rb.unwrap(), 1, "one worker holds the role");
    assert_eq!(iam.puts.load(Ordering::SeqCst), 1);
    assert_eq!(iam.overlapped.load(Ordering::SeqCst), 0);
    // More revocations right after the write wait for the 10 s interval:
    // neither worker writes again now.
    revoke(&b.pool, 21).await;
    let (ra, rb) = tokio::join!(wa.once(), wb.once());
    assert_eq!(ra.unwrap() + rb.unwrap(), 0);
    assert_eq!(iam.puts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn two_workers_on_one_sqlite_file_never_both_write_a_role() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tvm.db").display());
    two_workers_one_writer(&url).await;
}

#[tokio::test]
async fn two_workers_on_one_postgres_never_both_write_a_role() {
    let Some(pg) = crate::postgres::Postgres::start() else {
        return;
    };
    two_workers_one_writer(&pg.url).await;
}

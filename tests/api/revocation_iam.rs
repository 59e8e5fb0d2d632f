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

mod simulator {
    //! End to end against the simulator's IAM: the queue writes the derived
    //! policy through the revoker role, and the simulator then refuses the
    //! revoked session's next call while the same person's other session
    //! works (and GetCallerIdentity still answers, as in AWS).

    use std::sync::Arc;

    use aws_sdk_sts::error::ProvideErrorMetadata;
    use tvm::clock::SystemClock;
    use tvm::config::{DeploymentId, EndpointUrl};
    use tvm::identity::{Marker, RequestId, RoleSessionName, SourceIdentity, StampPrefix};
    use tvm::metrics::Metrics;
    use tvm::revocation::iam::{aws_client_factory, IamPolicies, Naming, RevokerAccess};
    use tvm::sts::aws::AwsSts;
    use tvm::sts::sim::{SimRole, Simulator};
    use tvm::sts::{AssumeRoleInput, Credentials, Sts};

    const TVM_USER: &str = "arn:aws:iam::111122223333:user/tvm-service";
    const TVM_AKID: &str = "AKIATVMSERVICE000001";
    const TVM_SECRET: &str = "tvmsecret000000000000000000000000000000";
    const PROD: &str = "arn:aws:iam::111122223333:role/TvmProtected-ProdAdmin";
    const REVOKER: &str = "arn:aws:iam::111122223333:role/TvmRevoker";
    const ADMIN: &str = "arn:aws:iam::111122223333:user/ops/admin";

    fn creds(akid: &str, secret: &str, token: Option<String>) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(akid, secret, token, None, "test")
    }

    fn client(url: &str, c: &Credentials) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(creds(
                &c.access_key_id,
                &c.secret_access_key,
                Some(c.session_token.clone()),
            ))
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// A vend as tvm makes it: tvm's credentials assume PROD with alice's stamp.
    async fn vend(sts: &AwsSts, id: &RequestId) -> Credentials {
        let alice = "arn:aws:iam::111122223333:user/dev/alice";
        let prefix = StampPrefix::parse("tvm").unwrap();
        sts.assume_role(AssumeRoleInput {
            role_arn: PROD.into(),
            role_session_name: RoleSessionName::new("alice", alice, id),
            source_identity: SourceIdentity::new(&prefix, "alice", alice, &Marker::Direct, id),
            duration_seconds: 900,
            external_id: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            policy: None,
        })
        .await
        .unwrap()
        .credentials
    }

    #[tokio::test]
    async fn the_written_policy_denies_the_revoked_session_and_no_other() {
        let sim = Simulator::new(Arc::new(SystemClock));
        sim.add_user(TVM_USER, TVM_AKID, TVM_SECRET).unwrap();
        sim.add_role(SimRole::new(PROD, vec![TVM_USER.into()]))
            .unwrap();
        sim.add_role(SimRole::new(REVOKER, vec![TVM_USER.into()]).with_role_policy_writer())
            .unwrap();
        let handle = sim.clone().spawn().await.unwrap();
        let url = handle.url();
        let tvm_sts = AwsSts::new(
            "us-east-1",
            Some(&url),
            Some(creds(TVM_AKID, TVM_SECRET, None)),
        )
        .await;
        let (id_a, id_b) = (RequestId::generate(), RequestId::generate());
        let a = vend(&tvm_sts, &id_a).await;
        let b = vend(&tvm_sts, &id_b).await;

        let db = tvm::database::connect("sqlite::memory:").await.unwrap();
        let now = jiff::Timestamp::now().as_second();
        let revocation = "0123456789abcdef";
        sqlx::query(
            "INSERT INTO revocations (id, kind, target_type, target, reason, by_arn, by_user_id, \
             self_service, suspends, created_at, request_id) VALUES ($1, 'session', 'SessionId', \
             't', 'laptop stolen', $2, 'AIDA', 0, 0, $3, 'aaaaaaaaaaaa')",
        )
        .bind(revocation)
        .bind(ADMIN)
        .bind(now)
        .execute(&db.pool)
        .await
        .unwrap();
        for (id, c, revoked) in [(&id_a, &a, true), (&id_b, &b, false)] {
            sqlx::query(
                "INSERT INTO sessions (row_id, access_key_id, state, request_id, created_at, \
                 expires_at, caller_arn, caller_user_id, caller_account, caller_access_key_id, \
                 client_address, username, profile, role_arn, kind, source_identity, \
                 session_name, revocation_id, revoked_at) VALUES ($1, $2, 'issued', $1, $3, $4, \
                 'arn', 'AIDA', '111122223333', 'AKIA', '127.0.0.1', 'alice', 'prod-admin', $5, \
                 'direct', $6, $7, $8, $9)",
            )
            .bind(id.as_str())
            .bind(&c.access_key_id)
            .bind(now)
            .bind(now + 900)
            .bind(PROD)
            .bind(format!("tvm.alice.direct.{id}"))
            .bind(format!("tvm-alice-{id}"))
            .bind(revoked.then_some(revocation))
            .bind(revoked.then_some(now))
            .execute(&db.pool)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO revocation_roles (role_arn, desired_version, applied_version, status, \
             updated_at) VALUES ($1, 1, 0, 'pending', $2)",
        )
        .bind(PROD)
        .bind(now)
        .execute(&db.pool)
        .await
        .unwrap();

        // Before the write, both sessions work.
        for c in [&a, &b] {
            client(&url, c)
                .get_access_key_info()
                .access_key_id(&b.access_key_id)
                .send()
                .await
                .unwrap();
        }
        let prefix = StampPrefix::parse("tvm").unwrap();
        let endpoint = EndpointUrl::parse(&url).unwrap();
        let policies = IamPolicies::new(
            db.pool.clone(),
            Naming::new(prefix.clone(), DeploymentId::parse("test").unwrap()),
            Some(Arc::new(RevokerAccess::new(
                Arc::new(tvm_sts),
                prefix,
                "TvmRevoker".into(),
                aws_client_factory(Some(&endpoint)),
            ))),
            Arc::new(SystemClock),
        );
        let worker = policies.applier_with_targets(Vec::new(), Metrics::new());
        assert_eq!(worker.once().await.unwrap(), 1);
        assert_eq!(
            policies.roles(revocation).await.unwrap()[0].status,
            "applied"
        );

        // The revoker session was stamped for the revocation.
        let revoker_call = sim
            .calls_for("AssumeRole")
            .into_iter()
            .find(|c| c.param("RoleArn") == Some(REVOKER))
            .expect("tvm assumed the revoker role");
        let si = revoker_call.param("SourceIdentity").unwrap();
        assert!(si.starts_with("tvm.admin.rvk-01234567."), "{si}");

        // After: the revoked session is refused, the other one works, and
        // the revoked one still answers GetCallerIdentity (as AWS does).
        let refused = client(&url, &a)
            .get_access_key_info()
            .access_key_id(&b.access_key_id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some("AccessDenied"), "{refused:?}");
        client(&url, &b)
            .get_access_key_info()
            .access_key_id(&a.access_key_id)
            .send()
            .await
            .unwrap();
        client(&url, &a).get_caller_identity().send().await.unwrap();
    }
}

//! How tvm talks to Redis: `rediss://` certificates verified against the
//! configured CA (and refused without it, failing closed), and
//! `state.rate_limit_failure` when Redis is lost: `open` serves what does not
//! need the replay store, `closed` answers 503 `UNAVAILABLE` before any token
//! work.

use crate::fleet::{write_policy, RedisServer, Replica, ReplicaConfig, Sts, BODY};
use crate::support::request;

#[tokio::test(flavor = "multi_thread")]
async fn rediss_is_verified_against_the_configured_ca() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params(), rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .signed_by(&leaf_key, &*ca)
        .unwrap();
    let (cert, key, ca_file) = (
        dir.path().join("redis.crt"),
        dir.path().join("redis.key"),
        dir.path().join("ca.crt"),
    );
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let redis = RedisServer::start_tls(&cert, &key).await;
    let policy = write_policy(dir.path());
    let sts = Sts::start().await;
    let state = format!(
        "{{redis_url: 'rediss://localhost:{}', redis_ca_file: {}}}",
        redis.port,
        ca_file.display()
    );
    let replica = Replica::start(ReplicaConfig {
        dir: dir.path(),
        name: "tls",
        sts: &sts,
        state_yaml: state,
        server_yaml: "",
        policy: &policy,
    })
    .await;
    let token = sts.token(&sts.alice, BODY);
    assert_eq!(replica.vend(&token, BODY).await.status, 200);
    assert_eq!(replica.vend(&token, BODY).await.code(), "TOKEN_REPLAYED");

    // Without the CA (system roots only) the certificate is refused: fail closed.
    let untrusting = Replica::start(ReplicaConfig {
        dir: dir.path(),
        name: "no-ca",
        sts: &sts,
        state_yaml: format!("{{redis_url: 'rediss://localhost:{}'}}", redis.port),
        server_yaml: "",
        policy: &policy,
    })
    .await;
    let before = sts.calls("AssumeRole");
    let answer = untrusting.vend(&sts.token(&sts.alice, BODY), BODY).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.code(), "UNAVAILABLE");
    assert_eq!(sts.calls("AssumeRole"), before);
}

fn ca_params() -> rcgen::CertificateParams {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_follow_their_failure_policy_when_redis_is_lost() {
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(dir.path());
    let sts = Sts::start().await;
    let mut redis = RedisServer::start(None).await;
    let start = |name: &'static str, failure: &str| {
        let state = format!(
            "{{redis_url: '{}', rate_limit_failure: {failure}}}",
            redis.url(None)
        );
        Replica::start(ReplicaConfig {
            dir: dir.path(),
            name,
            sts: &sts,
            state_yaml: state,
            server_yaml: "rate_limit_per_minute: 600, rate_limit_burst: 300, \
                          discovery_rate_limit_per_minute: 300, discovery_rate_limit_burst: 100",
            policy: &policy,
        })
    };
    let open = start("open", "open").await;
    let closed = start("closed", "closed").await;
    let discovery = |r: &Replica| format!("http://127.0.0.1:{}/.well-known/tvm", r.api);
    assert_eq!(
        request("GET", &discovery(&closed), &[], vec![])
            .await
            .status,
        200
    );

    redis.kill();
    let answer = request("GET", &discovery(&open), &[], vec![]).await;
    assert_eq!(answer.status, 200, "open: {answer:?}");
    let answer = request("GET", &discovery(&closed), &[], vec![]).await;
    assert_eq!(answer.status, 503, "closed: {answer:?}");
    assert_eq!(answer.code(), "UNAVAILABLE");
    let before = (sts.calls("GetCallerIdentity"), sts.calls("AssumeRole"));
    for r in [&open, &closed] {
        // Open lets /vend past the address bucket, and the replay store then
        // refuses it; closed refuses it at the bucket. Either way: 503, no STS.
        let answer = r.vend(&sts.token(&sts.alice, BODY), BODY).await;
        assert_eq!(answer.status, 503, "{answer:?}");
        assert_eq!(answer.code(), "UNAVAILABLE");
    }
    assert_eq!(
        (sts.calls("GetCallerIdentity"), sts.calls("AssumeRole")),
        before
    );
    assert!(
        closed.logs().contains("rate_limit_unavailable"),
        "the decision line says why"
    );
}

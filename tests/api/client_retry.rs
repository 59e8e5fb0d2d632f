//! Client retries against a scripted fake tvm: 429 and 503 are retried with a
//! fresh token each time, honouring `Retry-After`, within about 10 s; any
//! other error is not; failures are one line with the server's Code and
//! RequestId.

use std::time::{Duration, Instant};

use crate::client_env::{
    credential_process_json, output, shown, ClientEnv, FakeTvm, Scripted, FAKE_KEYS,
};

fn credentials(env: &ClientEnv, fake: &FakeTvm) -> tokio::process::Command {
    let mut cmd = env.tvm(&[
        "credentials",
        "--url",
        &fake.url,
        "--profile",
        "p",
        "--no-cache",
    ]);
    cmd.envs(FAKE_KEYS);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_429_and_503_with_a_fresh_token_after_retry_after() {
    let fake = FakeTvm::start(vec![
        Scripted::Error(503, "UNAVAILABLE", Some(1)),
        Scripted::Error(429, "RATE_LIMITED", Some(1)),
        Scripted::Vend(Duration::from_secs(3600)),
    ])
    .await;
    let env = ClientEnv::new();
    let started = Instant::now();
    let out = output(&mut credentials(&env, &fake)).await;
    credential_process_json(&out);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured"
    );
    let seen = fake.requests();
    assert_eq!(seen.len(), 3);
    assert!(seen[0] != seen[1] && seen[1] != seen[2] && seen[0] != seen[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gives_up_after_about_ten_seconds_with_one_line() {
    let fake = FakeTvm::start(vec![Scripted::Error(503, "STS_THROTTLED", Some(4))]).await;
    let env = ClientEnv::new();
    let started = Instant::now();
    let out = output(&mut credentials(&env, &fake)).await;
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    // Attempts at 0, 4 and 8 s; a fourth would end past the 10 s budget.
    assert_eq!(fake.requests().len(), 3);
    assert!(took < Duration::from_secs(15), "{took:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr,
        "tvm credentials: tvm answered 503 STS_THROTTLED: scripted (RequestId req000000003)\n"
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_errors_are_not_retried() {
    for (status, code) in [
        (400, "INVALID_REQUEST"),
        (401, "TOKEN_REPLAYED"),
        (403, "POLICY_DENY"),
        (500, "INTERNAL"),
        (502, "STS_ERROR"),
    ] {
        let fake = FakeTvm::start(vec![Scripted::Error(status, code, Some(1))]).await;
        let env = ClientEnv::new();
        let out = output(&mut credentials(&env, &fake)).await;
        assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
        assert_eq!(fake.requests().len(), 1, "{status} {code}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr,
            format!("tvm credentials: tvm answered {status} {code}: scripted (RequestId req000000001)\n")
        );
    }
}

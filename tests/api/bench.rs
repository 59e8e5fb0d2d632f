//! `tvm bench` and `tvm sim` as processes: the smoke bench completes with no
//! failed vend (no timing is asserted), the simulator serves its keys over a
//! real socket, and bad flags exit 64.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tvm::commands::sim::SimKeys;

const TVM: &str = env!("CARGO_BIN_EXE_tvm");

fn tvm() -> Command {
    let mut cmd = Command::new(TVM);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TVM_")) {
        cmd.env_remove(k);
    }
    cmd
}

#[test]
fn smoke_bench_completes_without_errors() {
    let out = tvm().args(["bench", "--smoke", "--json"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["upstream"], "sim");
    let runs = report["runs"].as_array().unwrap();
    let targets: Vec<&str> = runs.iter().map(|r| r["target"].as_str().unwrap()).collect();
    assert_eq!(targets, ["tvm", "direct"]);
    for run in runs {
        assert!(run["vends"].as_u64().unwrap() > 0, "{run}");
        assert_eq!(run["errors"], serde_json::json!({}), "{run}");
        assert!(run["p50_ms"].as_f64().unwrap() > 0.0, "{run}");
    }
    assert!(runs[0]["tvm_cpu_us_per_vend"].as_f64().unwrap() > 0.0);
    assert!(runs[0]["tvm_peak_rss_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn bench_refuses_delay_without_the_simulator() {
    let out = tvm()
        .args(["bench", "--upstream", "zero", "--delay", "10ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--delay needs --upstream sim"));
}

#[tokio::test]
async fn sim_process_serves_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let keys_path = dir.path().join("keys.json");
    let mut child = tvm()
        .args(["sim", "--listen", "127.0.0.1:0", "--write-keys"])
        .arg(&keys_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("tvm sim: listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let keys = SimKeys::read(&keys_path).unwrap();
    let creds = aws_credential_types::Credentials::new(
        &keys.caller.access_key_id,
        &keys.caller.secret_access_key,
        None,
        None,
        "test",
    );
    let sts = tvm::sts::aws::AwsSts::new("us-east-1", Some(&url), Some(creds)).await;
    let who = tvm::sts::Sts::get_caller_identity(&sts).await;
    let _ = child.kill();
    let _ = child.wait();
    let who = who.unwrap();
    assert_eq!(who.arn, keys.caller.arn);
    assert_eq!(who.account, "111122223333");
}

/// `tvm bench --database`: tvm without and with the ledger, on SQLite and
/// (when installed) on Postgres beside the same tvm with Redis; every vend of
/// every run succeeds (no timing asserted) and every ledger run really wrote
/// its rows.
#[tokio::test]
async fn bench_compares_tvm_with_and_without_the_ledger() {
    let pg = crate::postgres::Postgres::start();
    let redis = match &pg {
        Some(_) if crate::fleet::RedisServer::available() => {
            Some(crate::fleet::RedisServer::start(None).await)
        }
        _ => None,
    };
    let mut databases = "sqlite".to_owned();
    let mut args = vec![
        "bench",
        "--upstream",
        "zero",
        "-c",
        "4",
        "-d",
        "1s",
        "--warmup",
        "0s",
        "--json",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    if let (Some(pg), Some(r)) = (&pg, &redis) {
        databases.push(',');
        databases.push_str(&pg.url);
        args.extend([
            "--redis-url".into(),
            format!("redis://127.0.0.1:{}", r.port),
        ]);
    }
    args.extend(["--database".into(), databases]);
    let out = tokio::task::spawn_blocking(move || tvm().args(&args).output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let runs = report["runs"].as_array().unwrap();
    let targets: Vec<&str> = runs.iter().map(|r| r["target"].as_str().unwrap()).collect();
    let mut want = vec!["tvm", "tvm+sqlite"];
    if redis.is_some() {
        want.extend(["tvm+redis", "tvm+postgres"]);
    }
    assert_eq!(targets, want);
    for run in runs {
        assert!(run["vends"].as_u64().unwrap() > 0, "{run}");
        assert_eq!(run["errors"], serde_json::json!({}), "{run}");
    }
    if let (Some(pg), Some(_)) = (&pg, &redis) {
        let db = tvm::approvals::connect(&pg.url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE state = 'issued'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let postgres_vends = runs[3]["vends"].as_u64().unwrap();
        assert!(
            n as u64 >= postgres_vends,
            "{n} rows for {postgres_vends} vends"
        );
    }
}

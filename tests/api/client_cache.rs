//! The `tvm credentials` cache, against a fake tvm that counts vends: reuse
//! until 5 minutes before expiry, one entry per (origin, profile, duration,
//! caller identity, approval id, break-glass reason), `--no-cache` bypasses
//! it, a break-glass vend is cached only under its reason, 0600 files in
//! a 0700 directory, and a corrupt, too-open, foreign-owned, symlinked or
//! FIFO entry is never trusted but replaced (a FIFO without hanging); a hit
//! needs no network (tvm down); another caller identity never reads a
//! session (against the real tvm: it is vended afresh, and refused by
//! policy); concurrent runs never tear a file.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::PathBuf;
use std::time::Duration;

use crate::client_env::{
    credential_process_json, output, shown, ClientEnv, FakeTvm, Scripted, FAKE_KEYS,
};

const HOUR: Scripted = Scripted::Vend(Duration::from_secs(3600));

async fn run(env: &ClientEnv, fake: &FakeTvm, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["credentials", "--url", &fake.url, "--profile", "p"];
    args.extend_from_slice(extra);
    let out = output(env.tvm(&args).envs(FAKE_KEYS)).await;
    credential_process_json(&out)
}

fn cache_dir(env: &ClientEnv) -> PathBuf {
    env.path("cache/tvm")
}

/// The cache files (no temporary files left behind).
fn entries(env: &ClientEnv) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cache_dir(env))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuses_an_entry_and_keys_it_by_what_was_asked() {
    let fake = FakeTvm::start(vec![HOUR]).await;
    let env = ClientEnv::new();
    let first = run(&env, &fake, &[]).await;
    let second = run(&env, &fake, &[]).await;
    assert_eq!(first, second);
    assert_eq!(fake.requests().len(), 1);

    let dir = std::fs::metadata(cache_dir(&env)).unwrap();
    assert_eq!(dir.mode() & 0o777, 0o700);
    let files = entries(&env);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::metadata(&files[0]).unwrap().mode() & 0o777, 0o600);

    // Each of these is a different entry: a vend each, then reused.
    for extra in [
        &["--duration", "1800"][..],
        &["--approval-id", "0123456789abcdef"][..],
    ] {
        let before = fake.requests().len();
        run(&env, &fake, extra).await;
        run(&env, &fake, extra).await;
        assert_eq!(fake.requests().len(), before + 1, "{extra:?}");
    }
    // A profile with keys of its own (environment keys would win over it).
    env.write(
        "credentials",
        "[other]\naws_access_key_id = AKIAFAKECALLER000002\naws_secret_access_key = x\n",
        false,
    );
    let before = fake.requests().len();
    for _ in 0..2 {
        let args = [
            "credentials",
            "--url",
            &fake.url,
            "--profile",
            "p",
            "--aws-profile",
            "other",
        ];
        credential_process_json(&output(&mut env.tvm(&args)).await);
    }
    assert_eq!(fake.requests().len(), before + 1);
    // Other environment keys are another source.
    let before = fake.requests().len();
    let out = output(
        env.tvm(&["credentials", "--url", &fake.url, "--profile", "p"])
            .env("AWS_ACCESS_KEY_ID", "AKIAFAKECALLER000003")
            .env("AWS_SECRET_ACCESS_KEY", "y"),
    )
    .await;
    credential_process_json(&out);
    assert_eq!(fake.requests().len(), before + 1);
    assert_eq!(entries(&env).len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cache_break_glass_and_near_expiry_vend_again() {
    let fake = FakeTvm::start(vec![HOUR]).await;
    let env = ClientEnv::new();
    let plain = run(&env, &fake, &[]).await;
    run(&env, &fake, &["--no-cache"]).await;
    assert_eq!(fake.requests().len(), 2);
    let reason = ["--reason", "prod is down, paging did not reach anyone"];
    let glass = run(&env, &fake, &reason).await;
    assert_eq!(run(&env, &fake, &reason).await, glass);
    assert_eq!(fake.requests().len(), 3, "cached under its reason");
    assert_eq!(entries(&env).len(), 2);
    // A call without the reason never gets the break-glass session, nor does
    // another reason.
    assert_eq!(run(&env, &fake, &[]).await, plain);
    assert_eq!(fake.requests().len(), 3);
    let other = run(&env, &fake, &["--reason", "another outage, another reason"]).await;
    assert_ne!(other, glass);
    assert_eq!(fake.requests().len(), 4);

    // Four minutes left is inside the 5-minute margin: vended again each time.
    let short = FakeTvm::start(vec![Scripted::Vend(Duration::from_secs(240))]).await;
    run(&env, &short, &[]).await;
    run(&env, &short, &[]).await;
    assert_eq!(short.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrustworthy_entries_are_replaced() {
    let fake = FakeTvm::start(vec![HOUR]).await;
    let env = ClientEnv::new();
    let original = run(&env, &fake, &[]).await;
    let file = entries(&env).remove(0);
    let good = std::fs::read(&file).unwrap();
    let mut vends = 1;

    let mut check = |label: &str, n: usize| {
        vends += 1;
        assert_eq!(n, vends, "{label}: not trusted, so vended again");
        let meta = std::fs::symlink_metadata(&file).unwrap();
        assert!(meta.is_file(), "{label}: replaced by a regular file");
        assert_eq!(meta.mode() & 0o777, 0o600, "{label}");
        assert_eq!(meta.uid(), rustix::process::geteuid().as_raw(), "{label}");
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&file).unwrap()).unwrap();
    };

    // Corrupt.
    std::fs::write(&file, b"{\"AccessKeyId\": tru").unwrap();
    let v = run(&env, &fake, &[]).await;
    assert_ne!(v["AccessKeyId"], original["AccessKeyId"]);
    check("corrupt", fake.requests().len());

    // Group- or world-readable.
    for mode in [0o640, 0o604] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        run(&env, &fake, &[]).await;
        check("too open", fake.requests().len());
    }

    // A symlink to a well-formed, private entry.
    let elsewhere = env.path("planted.json");
    std::fs::write(&elsewhere, &good).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
    run(&env, &fake, &[]).await;
    check("symlink", fake.requests().len());
    assert_eq!(
        std::fs::read(&elsewhere).unwrap(),
        good,
        "the target is untouched"
    );

    // Owned by someone else (needs root to arrange).
    if rustix::process::geteuid().is_root() {
        std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
        run(&env, &fake, &[]).await;
        check("foreign", fake.requests().len());
    } else {
        eprintln!("skipping the foreign-owner case: not root");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_never_tear_the_file() {
    let fake = FakeTvm::start(vec![HOUR]).await;
    let env = ClientEnv::new();
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = env.tvm(&["credentials", "--url", &fake.url, "--profile", "p"]);
            cmd.envs(FAKE_KEYS).stdout(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in runs {
        let out = child.wait_with_output().await.unwrap();
        credential_process_json(&out);
    }
    let files = entries(&env);
    assert_eq!(files.len(), 1, "{files:?}");
    serde_json::from_slice::<serde_json::Value>(&std::fs::read(&files[0]).unwrap()).unwrap();
    // And the entry is used from then on.
    let before = fake.requests().len();
    run(&env, &fake, &[]).await;
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_hit_needs_no_network() {
    let fake = FakeTvm::start(vec![HOUR]).await;
    let env = ClientEnv::new();
    let first = run(&env, &fake, &[]).await;
    assert_eq!((fake.requests().len(), fake.discoveries()), (1, 1));
    assert_eq!(run(&env, &fake, &[]).await, first);
    assert_eq!(
        (fake.requests().len(), fake.discoveries()),
        (1, 1),
        "a hit fetched nothing, not even the discovery document"
    );
    // tvm is down (an outage, a rollout): the cached session still answers.
    fake.stop().await;
    assert_eq!(run(&env, &fake, &[]).await, first);
    let args = [
        "credentials",
        "--url",
        &fake.url,
        "--profile",
        "p",
        "--no-cache",
    ];
    let out = output(env.tvm(&args).envs(FAKE_KEYS)).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "the server is really down: {}",
        shown(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_caller_never_reads_the_cached_session() {
    let app = crate::support::spawn_app().await;
    let env = ClientEnv::new();
    let file = |name: &str, who: &crate::support::Caller| {
        env.write(
            name,
            &format!(
                "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                who.creds.access_key_id(),
                who.creds.secret_access_key()
            ),
            false,
        )
    };
    let alice = file("alice", &app.alice);
    let bob = file("bob", &app.mallory);
    let args = ["credentials", "--url", &app.api, "--profile", "readonly"];
    let as_who = |path: &str| {
        let mut cmd = env.tvm(&args);
        cmd.env("AWS_SHARED_CREDENTIALS_FILE", path);
        cmd
    };
    let session = credential_process_json(&output(&mut as_who(&alice)).await);
    assert_eq!(app.sts_calls("AssumeRole"), 1);
    // bob is another identity: his own vend, checked by policy (which denies him).
    let out = output(&mut as_who(&bob)).await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    let shown_out = String::from_utf8_lossy(&out.stdout);
    assert!(
        !shown_out.contains(session["AccessKeyId"].as_str().unwrap()),
        "bob got alice's session: {shown_out}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("403"),
        "{}",
        shown(&out)
    );
    assert_eq!(app.sts_calls("AssumeRole"), 1, "no session for bob");
    // alice's entry is still hers.
    assert_eq!(
        credential_process_json(&output(&mut as_who(&alice)).await),
        session
    );
    assert_eq!(app.sts_calls("AssumeRole"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_in_the_cache_is_refused_without_hanging() {
    let fake = FakeTvm::start(vec![HOUR]).await;
    let env = ClientEnv::new();
    let original = run(&env, &fake, &[]).await;
    let file = entries(&env).remove(0);
    std::fs::remove_file(&file).unwrap();
    let made = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(made.success());
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(
        &std::fs::symlink_metadata(&file).unwrap().file_type()
    ));
    let mut cmd = env.tvm(&["credentials", "--url", &fake.url, "--profile", "p"]);
    cmd.envs(FAKE_KEYS);
    let out = tokio::time::timeout(Duration::from_secs(20), cmd.output())
        .await
        .expect("a FIFO in the cache hung the client")
        .unwrap();
    let v = credential_process_json(&out);
    assert_ne!(v["AccessKeyId"], original["AccessKeyId"], "vended afresh");
    assert_eq!(fake.requests().len(), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a regular file"), "{err}");
    let meta = std::fs::symlink_metadata(&file).unwrap();
    assert!(meta.is_file(), "replaced by a regular entry");
    assert_eq!(meta.mode() & 0o777, 0o600);
}

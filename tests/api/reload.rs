//! Policy hot reload (issue #4): file changes, Kubernetes-style symlink swaps
//! and SIGHUP load a new policy; a broken one is refused and the last good
//! policy keeps serving; requests during reloads never fail; a file caught
//! half-written is never served (issue #7).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

const READONLY: &str = r#"{"profile":"readonly"}"#;

/// POLICY with alice's rule switched off (readonly is allowed to nobody).
fn deny_all() -> String {
    POLICY.replace(
        "principals: [\"arn:aws:iam::111122223333:user/eng/*\"]",
        "principals: [\"arn:aws:iam::111122223333:user/nobody\"]",
    )
}

fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn reloads(app: &TestApp, result: &str) -> f64 {
    let text = app.get(&app.admin, "/metrics", None).await.body;
    metric(
        &text,
        &format!("tvm_policy_reloads_total{{result=\"{result}\"}}"),
    )
}

/// Vends until the status is `want` or the deadline passes.
async fn eventually(app: &TestApp, want: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = app.vend(&app.alice, READONLY).await.status;
        if status == want {
            return;
        }
        assert!(Instant::now() < deadline, "still {status}, wanted {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_changed_file_is_picked_up_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, deny_all()).unwrap();
    let app = spawn_app_with(Options {
        policy_file: Some(file.clone()),
        ..Options::default()
    })
    .await;
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 403);

    write_atomically(&file, POLICY);
    eventually(&app, 200).await;
    assert!(reloads(&app, "success").await >= 2.0);

    // A broken policy: error log + metric, and the last good one keeps serving.
    let errors_before = reloads(&app, "error").await;
    write_atomically(
        &file,
        "version: 1\nprofiles: {}\nrules:\n  - name: x\n    effect: allow\n",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while reloads(&app, "error").await == errors_before {
        assert!(Instant::now() < deadline, "broken policy was not noticed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 200);
    assert!(logs_text().contains("policy reload rejected"));
    // That a failure is reported once and not on every poll is a unit test in
    // src/reload.rs: here a parallel test's SIGHUP (sent to this whole process)
    // forces extra reloads.
}

#[cfg(unix)]
#[tokio::test]
async fn a_configmap_style_symlink_swap_is_picked_up() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Kubernetes: policy.yaml -> ..data/policy.yaml, ..data -> ..2026_v1
    std::fs::create_dir(d.join("..v1")).unwrap();
    std::fs::write(d.join("..v1/policy.yaml"), deny_all()).unwrap();
    symlink("..v1", d.join("..data")).unwrap();
    symlink("..data/policy.yaml", d.join("policy.yaml")).unwrap();
    let app = spawn_app_with(Options {
        policy_file: Some(d.join("policy.yaml")),
        ..Options::default()
    })
    .await;
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 403);

    std::fs::create_dir(d.join("..v2")).unwrap();
    std::fs::write(d.join("..v2/policy.yaml"), POLICY).unwrap();
    symlink("..v2", d.join("..data_tmp")).unwrap();
    std::fs::rename(d.join("..data_tmp"), d.join("..data")).unwrap();
    std::fs::remove_dir_all(d.join("..v1")).unwrap();
    eventually(&app, 200).await;
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, deny_all()).unwrap();
    // Polling is effectively off: only SIGHUP can bring the change in.
    let app = spawn_app_with(Options {
        policy_file: Some(file.clone()),
        poll_interval: Duration::from_secs(3600),
        ..Options::default()
    })
    .await;
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 403);
    write_atomically(&file, POLICY);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.vend(&app.alice, READONLY).await.status,
        403,
        "no reload without a signal"
    );
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    eventually(&app, 200).await;
}

#[tokio::test]
async fn reloads_under_load_fail_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    // Two policies that both allow alice, through differently named rules.
    let a = POLICY.to_owned();
    let b = POLICY.replace("name: eng-readonly", "name: eng-readonly-v2");
    std::fs::write(&file, &a).unwrap();
    let app = std::sync::Arc::new(
        spawn_app_with(Options {
            policy_file: Some(file.clone()),
            poll_interval: Duration::from_millis(100),
            // Shorter than the 60 ms between writes, so most looks settle.
            settle_interval: Duration::from_millis(10),
            ..Options::default()
        })
        .await,
    );
    let mut workers = Vec::new();
    for _ in 0..4 {
        let app = app.clone();
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..25 {
                statuses.push(app.vend(&app.alice, READONLY).await.status);
            }
            statuses
        }));
    }
    for i in 0..20 {
        write_atomically(&file, if i % 2 == 0 { &b } else { &a });
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    for w in workers {
        let statuses = w.await.unwrap();
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
    assert!(reloads(&app, "success").await >= 3.0);
    assert_eq!(reloads(&app, "error").await, 0.0);
}

#[tokio::test]
async fn a_file_the_cli_would_refuse_is_refused_by_reload_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, POLICY).unwrap();
    let app = spawn_app_with(Options {
        policy_file: Some(file.clone()),
        ..Options::default()
    })
    .await;
    let errors = reloads(&app, "error").await;
    // Invalid UTF-8 inside a deny pattern: never read "lossily".
    let mut bytes = POLICY.as_bytes().to_vec();
    bytes.extend_from_slice(b"  - name: freeze\n    effect: deny\n    principals: [\"arn:aws:iam::111122223333:user/\xff*\"]\n");
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, &bytes).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while reloads(&app, "error").await == errors {
        assert!(Instant::now() < deadline, "invalid UTF-8 was not refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A deleted file: refused too, and the last good policy keeps serving.
    std::fs::remove_file(&file).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        app.vend(&app.alice, READONLY).await.status,
        200,
        "last good policy"
    );
}

#[tokio::test]
async fn a_half_written_policy_is_never_served() {
    use std::io::Write;
    // The whole new file refuses alice (her rule now also needs `users`); cut
    // just before that line it is a valid policy that lets her in.
    let whole = POLICY.replace(
        "    profiles: [\"readonly\"]\n",
        "    profiles: [\"readonly\"]\n    users: [\"nobody\"]\n",
    );
    let cut = whole.find("    users: [\"nobody\"]").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, deny_all()).unwrap();
    let app = spawn_app_with(Options {
        policy_file: Some(file.clone()),
        poll_interval: Duration::from_millis(50),
        // The production interval: the one the docs promise.
        settle_interval: tvm::reload::DEFAULT_SETTLE_INTERVAL,
        ..Options::default()
    })
    .await;
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 403);
    let loaded = reloads(&app, "success").await;

    // Written in place, like `cp` or `>`: the prefix sits there for several
    // polls, and the rest lands well within the settle interval (from its own
    // thread, so a slow vend cannot delay it).
    let settle = tvm::reload::DEFAULT_SETTLE_INTERVAL;
    let mut w = std::fs::File::create(&file).unwrap();
    w.write_all(&whole.as_bytes()[..cut]).unwrap();
    let started = Instant::now();
    let finisher = std::thread::spawn(move || {
        std::thread::sleep(settle / 4);
        w.write_all(&whole.as_bytes()[cut..]).unwrap();
    });

    // Alice is never let in, while the prefix sits there or after; the whole
    // file is loaded once it settles.
    let deadline = started + Duration::from_secs(10);
    while started.elapsed() < settle / 2 || reloads(&app, "success").await == loaded {
        assert!(Instant::now() < deadline, "the whole file was not loaded");
        let status = app.vend(&app.alice, READONLY).await.status;
        assert_eq!(status, 403, "the half-written policy was served");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    finisher.join().unwrap();
    assert_eq!(app.vend(&app.alice, READONLY).await.status, 403);
    assert_eq!(
        app.vend(&app.sso_alice, r#"{"profile":"prod-admin"}"#)
            .await
            .status,
        200
    );
    assert_eq!(reloads(&app, "error").await, 0.0);
}

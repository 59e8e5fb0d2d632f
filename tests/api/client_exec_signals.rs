//! `tvm exec` and signals: a Ctrl-C (SIGINT to the whole foreground process
//! group) or Ctrl-\ (SIGQUIT) reaches the child once — from the "terminal",
//! not again from tvm — and tvm survives it, exiting with the child's status;
//! SIGTERM and SIGHUP sent to tvm alone reach the child once each.
//!
//! The child is a shell that counts each signal with `trap`. tvm runs in a
//! process group of its own, standing in for a terminal's foreground group.
//! A duplicate that arrives while the first is still pending merges with it,
//! so one run can miss a duplicate: each case runs several times.

use std::path::Path;
use std::time::Duration;

use rustix::process::{kill_process, kill_process_group, Pid, Signal};

use crate::client_env::{shown, ClientEnv, FakeTvm, Scripted, FAKE_KEYS};

/// How many times each case runs (a duplicate merges with the first now and
/// then, so one run alone could miss it).
const RUNS: usize = 10;

/// Counts the signals it gets until `go` appears (60 s at most), writes the
/// counts, exits 5. It waits with the `wait` builtin, which a trapped signal
/// interrupts at once, so the trap runs before a late duplicate arrives; the
/// background `sleep` ignores SIGINT and SIGQUIT (as every asynchronous
/// command of a non-interactive shell does).
const COUNT_SIGNALS: &str = r#"int=0; quit=0; term=0; hup=0
trap 'int=$((int+1))' INT
trap 'quit=$((quit+1))' QUIT
trap 'term=$((term+1))' TERM
trap 'hup=$((hup+1))' HUP
touch "$TVM_TEST_DIR/ready"
i=0; while [ ! -e "$TVM_TEST_DIR/go" ] && [ $i -lt 600 ]; do sleep 0.1 & wait $!; i=$((i+1)); done
echo "int=$int quit=$quit term=$term hup=$hup" > "$TVM_TEST_DIR/counts"
exit 5
"#;

/// Waits up to 30 s for `path` to exist.
async fn wait_for(path: &Path) {
    for _ in 0..300 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} never appeared", path.display());
}

/// Runs `tvm exec -- sh COUNT_SIGNALS` in a new process group, lets `send`
/// signal it once the child is ready, then returns the child's counts after
/// checking that tvm exited with the child's status.
async fn counts_after(url: &str, send: impl Fn(Pid)) -> String {
    let env = ClientEnv::new();
    let script = env.write("count.sh", COUNT_SIGNALS, true);
    let dir = env.dir.path().display().to_string();
    let child = env
        .tvm(&["exec", "--url", url, "--profile", "p", "--", "sh", &script])
        .envs(FAKE_KEYS)
        .env("TVM_TEST_DIR", &dir)
        .current_dir(env.dir.path())
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id().unwrap() as i32).unwrap();
    wait_for(&env.path("ready")).await;
    send(pid);
    // Room for a duplicate to arrive before the child stops counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::fs::write(env.path("go"), "").unwrap();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", shown(&out));
    std::fs::read_to_string(env.path("counts")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_to_the_process_group_reaches_the_child_once() {
    let fake = FakeTvm::start(vec![Scripted::Vend(Duration::from_secs(3600))]).await;
    for run in 0..RUNS {
        let counts = counts_after(&fake.url, |pid| {
            kill_process_group(pid, Signal::INT).unwrap();
        })
        .await;
        assert_eq!(counts, "int=1 quit=0 term=0 hup=0\n", "run {run}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_backslash_to_the_process_group_reaches_the_child_once() {
    let fake = FakeTvm::start(vec![Scripted::Vend(Duration::from_secs(3600))]).await;
    for run in 0..RUNS {
        let counts = counts_after(&fake.url, |pid| {
            kill_process_group(pid, Signal::QUIT).unwrap();
        })
        .await;
        assert_eq!(counts, "int=0 quit=1 term=0 hup=0\n", "run {run}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sighup_to_tvm_alone_reach_the_child_once_each() {
    let fake = FakeTvm::start(vec![Scripted::Vend(Duration::from_secs(3600))]).await;
    for run in 0..RUNS {
        let counts = counts_after(&fake.url, |pid| {
            kill_process(pid, Signal::TERM).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            kill_process(pid, Signal::HUP).unwrap();
        })
        .await;
        assert_eq!(counts, "int=0 quit=0 term=1 hup=1\n", "run {run}");
    }
}

#[tokio::test]
async fn a_signal_ignored_when_tvm_starts_stays_ignored_in_the_child() {
    let fake = FakeTvm::start(vec![Scripted::Vend(Duration::from_secs(3600))]).await;
    let env = ClientEnv::new();
    // As `nohup` (SIGHUP) and a script's `cmd &` (SIGINT, SIGQUIT) leave them.
    let out = crate::client_env::output(
        tokio::process::Command::new("sh")
            .env_clear()
            .envs(env.vars())
            .envs(FAKE_KEYS)
            .args(["-c", "trap '' HUP INT QUIT; exec \"$0\" \"$@\""])
            .args([
                crate::client_env::TVM,
                "exec",
                "--url",
                &fake.url,
                "--profile",
                "p",
            ])
            .args(["--", "grep", "^SigIgn:", "/proc/self/status"]),
    )
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    let line = String::from_utf8_lossy(&out.stdout);
    let mask = u64::from_str_radix(line.trim_start_matches("SigIgn:").trim(), 16).unwrap();
    // Bits 0, 1 and 2: SIGHUP, SIGINT, SIGQUIT; SIGTERM (bit 14) is not ignored.
    assert_eq!(mask & 0b111, 0b111, "{line}");
    assert_eq!(mask & (1 << 14), 0, "{line}");
}

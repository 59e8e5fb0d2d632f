//! The approvers' page in a real browser (issue #13 item 4): Debian's chromium
//! and chromedriver driven by Python selenium (`tests/ui_browser.py`). Bob
//! signs in through a link made by `tvm ui`, sees alice's pending request,
//! approves it; then alice's `tvm credentials --approval-id` vends with an
//! `apr-` marker. Screenshots go to `target/ui-screenshots/`. Skipped with a
//! notice outside CI when chromium, chromedriver or selenium is missing; a
//! failure in CI (`CI=true`).

use std::path::Path;
use std::time::Duration;

use crate::client_env::{credential_process_json, keys, output, shown, ClientEnv};
use crate::support::venv_python;
use crate::ui::{ui_app, BOB_ARN};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui_browser.py");
const SCREENSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/ui-screenshots");
/// Generous: starting chromium on a loaded 2-core machine is slow.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);

/// A Python with selenium, and the browser and its driver; `None` (after a
/// notice) when one is missing outside CI.
pub fn browser_python() -> Option<String> {
    let missing = |what: &str| {
        assert!(
            std::env::var("CI").is_err(),
            "CI needs {what} for the browser test (see .ci/run)"
        );
        eprintln!("skipping the browser test: no {what} (run .ci/run once)");
        None
    };
    for bin in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        if !Path::new(bin).exists() {
            return missing(bin);
        }
    }
    let py = venv_python("selenium")?;
    let has_selenium = std::process::Command::new(&py)
        .args(["-c", "import selenium"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_selenium {
        return missing("Python selenium");
    }
    Some(py)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approver_signs_in_and_approves_in_a_real_browser() {
    let Some(py) = browser_python() else { return };
    let ui = ui_app().await;
    let app = &ui.app;
    let env = ClientEnv::new();
    let url = app.api.as_str();
    let reason = "Roll back the 14:02 deploy <b>now</b> & page the on-call";

    let mut request = env.tvm(&[
        "request",
        "--url",
        url,
        "--profile",
        "prod-admin",
        "--duration",
        "1800",
        "--reason",
        reason,
    ]);
    let out = output(request.envs(keys(&app.alice))).await;
    assert!(out.status.success(), "{}", shown(&out));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    let mut link = env.tvm(&["ui", "--url", url, "--no-browser"]);
    let out = output(link.envs(keys(&ui.bob))).await;
    assert!(out.status.success(), "{}", shown(&out));
    let link = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();

    let _ = std::fs::remove_dir_all(SCREENSHOTS);
    let browser = tokio::process::Command::new(&py)
        .args([SCRIPT, &link, &id, SCREENSHOTS])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(BROWSER_TIMEOUT, browser)
        .await
        .expect("the browser did not finish in time")
        .unwrap();
    assert!(out.status.success(), "{}", shown(&out));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["signed_in_arn"], BOB_ARN, "{seen}");
    assert_eq!(seen["detail_arn"], BOB_ARN, "{seen}");
    assert!(
        seen["after_sign_in"].as_str().unwrap().ends_with("/ui/"),
        "{seen}"
    );
    let row = seen["list_row"].as_str().unwrap();
    assert!(
        row.contains("user/eng/alice") && row.contains("prod-admin"),
        "{seen}"
    );
    assert!(row.contains("30m") && row.contains("<b>now</b>"), "{seen}");
    assert_eq!(seen["detail_reason"], reason, "shown as text: {seen}");
    assert_eq!(seen["detail_status"], "pending");
    assert_eq!(seen["status_after"], "approved");
    assert!(
        seen["approvals"].as_str().unwrap().contains(BOB_ARN),
        "{seen}"
    );
    assert_eq!(seen["session_cookie"]["httpOnly"], true, "{seen}");
    assert_eq!(seen["session_cookie"]["secure"], true, "{seen}");
    assert_eq!(seen["session_cookie"]["sameSite"], "Lax", "{seen}");
    for shot in [
        "pending-list.png",
        "request-detail.png",
        "request-approved.png",
    ] {
        let size = std::fs::metadata(Path::new(SCREENSHOTS).join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 1000, "{shot}: {size} bytes");
    }

    // The requester vends under the grant the browser approved.
    let mut vend = env.tvm(&[
        "credentials",
        "--url",
        url,
        "--profile",
        "prod-admin",
        "--approval-id",
        &id,
    ]);
    credential_process_json(&output(vend.envs(keys(&app.alice))).await);
    let si = app
        .sim
        .calls_for("AssumeRole")
        .last()
        .and_then(|c| c.params.get("SourceIdentity").cloned())
        .unwrap_or_default();
    assert!(si.contains(&format!(".apr-{}.", &id[..8])), "{si}");
}

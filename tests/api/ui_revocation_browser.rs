//! The §13 pages in a real browser (`tests/ui_revocation_browser.py`,
//! chromium + chromedriver + selenium as `ui_browser.rs`): an admin signs in,
//! sees every live session, is refused a form whose CSRF token was removed,
//! revokes one session with a hostile reason (shown as text: no script, no
//! image, no alert, the bidi control visible as `\u{202e}`), and reads the
//! revocation with its role's status; a non-admin sees only their own
//! session and not the admin's revocation. The JSON API then confirms what
//! changed. Sign-in links are handed over stdin when the script asks, so
//! each is fresh. Skipped outside CI without the browser, a failure in CI.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::revocation::{CAROL_ARN, SEC_ARN};
use crate::ui::login_link;
use crate::ui_browser::browser_python;
use crate::ui_revocation::{app, ALICE_KEY, ALICE_KEY2, CAROL_KEY};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/ui_revocation_browser.py"
);
const SCREENSHOTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/ui-screenshots/revocation"
);
/// Generous: starting chromium on a loaded 2-core machine is slow.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_revokes_a_session_in_a_real_browser_and_a_user_sees_only_their_own() {
    let Some(py) = browser_python() else { return };
    let r = app().await;
    let _ = std::fs::remove_dir_all(SCREENSHOTS);
    let mut child = tokio::process::Command::new(&py)
        .args([SCRIPT, SCREENSHOTS, ALICE_KEY, ALICE_KEY2, CAROL_KEY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let talk = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let (who, next) = match line.as_str() {
                "need admin" => (&r.dave, "/ui/sessions"),
                "need user" => (&r.carol, "/ui/sessions"),
                _ => return line,
            };
            let link = login_link(&r.app, who, next).await;
            assert_eq!(link.status, 200, "{}", link.body);
            let url = link.json()["Url"].as_str().unwrap().to_owned();
            stdin
                .write_all(format!("{url}\n").as_bytes())
                .await
                .unwrap();
            stdin.flush().await.unwrap();
        }
        String::new()
    };
    let last = tokio::time::timeout(BROWSER_TIMEOUT, talk)
        .await
        .expect("the browser did not finish in time");
    let status = child.wait().await.unwrap();
    assert!(status.success(), "{last}");
    let seen: serde_json::Value = serde_json::from_str(&last).unwrap();
    let text = |k: &str| seen[k].as_str().unwrap_or_default().to_owned();

    assert_eq!(text("admin_arn"), SEC_ARN, "{seen}");
    assert!(text("admin_landed").ends_with("/ui/sessions"), "{seen}");
    assert_eq!(
        seen["nav"],
        serde_json::json!(["Requests", "Sessions", "Revocations"])
    );
    for key in [ALICE_KEY, ALICE_KEY2, CAROL_KEY] {
        assert!(text("admin_sessions").contains(key), "{key}: {seen}");
    }
    assert_eq!(text("no_csrf_title"), "Refused", "{seen}");
    assert!(
        text("revocation_url").contains("/ui/revocations/"),
        "{seen}"
    );
    assert_eq!(
        text("revocation_reason"),
        r"<script>alert(1)</script>\u{202e}gnp.exe <img src=x onerror=alert(2)>",
        "shown as text, the bidi control visible: {seen}"
    );
    assert_eq!(seen["scripts"], 0, "{seen}");
    assert_eq!(seen["images"], 0, "{seen}");
    assert_eq!(seen["no_alert"], true, "{seen}");
    assert_eq!(text("revocation_kind"), "session");
    assert!(text("revocation_target").contains(ALICE_KEY), "{seen}");
    let roles = text("roles");
    assert!(
        roles.contains("TvmReadOnly") && roles.contains("pending"),
        "{seen}"
    );
    assert_eq!(
        seen["lift_form"], 0,
        "a session revocation has nothing to lift"
    );
    assert!(text("admin_revocations").contains("<script>"), "{seen}");
    assert!(!text("admin_sessions_after").contains(ALICE_KEY), "{seen}");
    assert!(text("admin_sessions_after").contains(ALICE_KEY2), "{seen}");

    assert_eq!(text("user_arn"), CAROL_ARN, "{seen}");
    assert!(text("user_scope").contains("Your own"), "{seen}");
    assert!(text("user_sessions").contains(CAROL_KEY), "{seen}");
    assert!(!text("user_sessions").contains("ASIAALICE"), "{seen}");
    assert_eq!(text("user_other_revocation"), "Not found", "{seen}");
    assert_eq!(seen["user_revocations_empty"], 1, "{seen}");
    for shot in [
        "sessions-admin.png",
        "revocation-admin.png",
        "sessions-user.png",
    ] {
        let size = std::fs::metadata(Path::new(SCREENSHOTS).join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 1000, "{shot}: {size} bytes");
    }

    // What the browser did, as the JSON API tells an admin.
    for (key, want) in [
        (ALICE_KEY, "revoked"),
        (ALICE_KEY2, "live"),
        (CAROL_KEY, "live"),
    ] {
        let a = r
            .app
            .call(&r.dave, "GET", &format!("/sessions/{key}"), "")
            .await;
        assert_eq!(a.json()["Status"], want, "{key}: {}", a.body);
    }
    let all = r
        .app
        .call(&r.dave, "GET", "/revocations?status=all", "")
        .await;
    let list = all.json()["Revocations"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{}", all.body);
    assert_eq!(list[0]["By"], SEC_ARN);
}

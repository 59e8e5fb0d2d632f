//! What a signed-in approver may see on the web page beyond requests (issue
//! #18, item 9): recent break-glass uses only of the profiles they may approve
//! for, plus their own; and a session's rights re-checked on every page load
//! against the policy served now, not fixed at sign-in.

use std::time::Duration;

use crate::support::*;
use crate::ui::{page, session, BOB_ARN, CAROL_ARN, UI_POLICY};

/// [`UI_POLICY`] plus break-glass on prod-admin for eng/ users.
fn policy() -> String {
    format!(
        "{UI_POLICY}  - name: prod-break-glass\n    effect: break_glass\n    accounts: [\"111122223333\"]\n    principals: [\"arn:aws:iam::111122223333:user/eng/*\"]\n    profiles: [\"prod-admin\"]\n"
    )
}

fn opts() -> Options {
    Options {
        approvals: true,
        policy_text: Some(policy()),
        // Break-glass needs a webhook; nobody listens on port 9 (retries only).
        webhooks: vec![(
            "http://127.0.0.1:9/hook".into(),
            vec!["break_glass.used".into()],
            b"secret".to_vec(),
        )],
        ..Options::default()
    }
}

const REASON: &str = "orders database down, paging on-call now";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_uses_show_only_to_their_profiles_approvers_and_the_user() {
    let app = spawn_app_with(opts()).await;
    let bob = app.add_user(BOB_ARN);
    let carol = app.add_user(CAROL_ARN);
    let used = app
        .vend(
            &app.alice,
            &format!(r#"{{"profile": "prod-admin", "reason": "{REASON}"}}"#),
        )
        .await;
    assert_eq!(used.status, 200, "{}", used.body);

    // Bob approves prod-admin: he sees it.
    let b = page(&app, "/ui/", Some(&session(&app, &bob).await)).await;
    assert_eq!(b.status, 200);
    assert!(b.body.contains("id=\"break-glass\""), "{}", b.body);
    assert!(b.body.contains(REASON), "{}", b.body);
    // Carol approves readonly only (an unrelated rule): nothing of it.
    let c = page(&app, "/ui/", Some(&session(&app, &carol).await)).await;
    assert_eq!(c.status, 200);
    assert!(!c.body.contains("id=\"break-glass\""), "{}", c.body);
    assert!(!c.body.contains(REASON), "{}", c.body);
    assert!(!c.body.contains("user/eng/alice"), "{}", c.body);
    // Alice sees her own.
    let a = page(&app, "/ui/", Some(&session(&app, &app.alice).await)).await;
    assert!(a.body.contains(REASON), "{}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_loses_the_page_when_a_reload_removes_its_approver() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, UI_POLICY).unwrap();
    let app = spawn_app_with(Options {
        approvals: true,
        policy_file: Some(file.clone()),
        ..Options::default()
    })
    .await;
    let carol = app.add_user(CAROL_ARN);
    let s = session(&app, &carol).await;
    assert_eq!(page(&app, "/ui/", Some(&s)).await.status, 200);

    // Carol is no approver any more (dave replaces her).
    std::fs::write(&file, UI_POLICY.replace("user/ops/carol", "user/ops/dave")).unwrap();
    let mut last = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let p = page(&app, "/ui/", Some(&s)).await;
        if p.status != 200 {
            last = Some(p);
            break;
        }
    }
    let m = app.get(&app.admin, "/metrics", None).await.body;
    let p = last.unwrap_or_else(|| {
        panic!(
            "the session should be refused after the reload: {}",
            m.lines()
                .filter(|l| l.contains("reload"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(!p.body.contains("Signed in as"), "{}", p.body);
}

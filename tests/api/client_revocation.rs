//! The §13 client commands (`tvm sessions`, `tvm revoke`, `tvm revocations`,
//! `tvm audit`, `tvm exec --revoke-on-exit`, `TVM_URL`) against a scripted
//! tvm on loopback speaking DESIGN §13's wire shapes: which calls each
//! command makes (method, path, query, body), what it prints, and hostile
//! answers (control characters, bad ids, a looping or reordered export)
//! refused before anything is printed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{json, Value};

use crate::client_env::{output, shown, ClientEnv, FAKE_KEYS};

const RID: &str = "a2d43d42a691";
const KEY1: &str = "ASIAFAKE000000000001";
const KEY2: &str = "ASIAFAKE000000000002";
const REV: &str = "0123456789abcdef";

/// One request the fake saw.
#[derive(Debug, Clone)]
struct Seen {
    /// `METHOD /path`.
    target: String,
    query: String,
    body: Value,
}

#[derive(Default)]
struct Script {
    /// Answers per `METHOD /path`, in order; the last one repeats.
    answers: HashMap<String, Vec<(u16, Value)>>,
    seen: Vec<Seen>,
    origin: String,
    vends: usize,
}

struct Fake {
    url: String,
    s: Arc<Mutex<Script>>,
}

impl Fake {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let s = Arc::new(Mutex::new(Script {
            origin: url.clone(),
            ..Script::default()
        }));
        let app = axum::Router::new()
            .route("/.well-known/tvm", axum::routing::get(discovery))
            .fallback(answer)
            .with_state(s.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, s }
    }

    fn on(&self, target: &str, status: u16, body: Value) {
        self.s
            .lock()
            .unwrap()
            .answers
            .entry(target.to_owned())
            .or_default()
            .push((status, body));
    }

    fn seen(&self) -> Vec<Seen> {
        self.s.lock().unwrap().seen.clone()
    }

    fn targets(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.target).collect()
    }
}

async fn discovery(State(s): State<Arc<Mutex<Script>>>) -> impl IntoResponse {
    let origin = s.lock().unwrap().origin.clone();
    axum::Json(json!({
        "audience": [origin], "sts_endpoint": "http://127.0.0.1:9",
        "region": "us-east-1", "token_versions": ["tvm-v1"],
    }))
}

async fn answer(State(s): State<Arc<Mutex<Script>>>, req: Request) -> axum::response::Response {
    let target = format!("{} {}", req.method(), req.uri().path());
    let query = req.uri().query().unwrap_or_default().to_owned();
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut s = s.lock().unwrap();
    s.seen.push(Seen {
        target: target.clone(),
        query,
        body,
    });
    if target == "POST /vend" {
        s.vends += 1;
        let n = s.vends;
        let exp = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
        return axum::Json(json!({
            "AccessKeyId": format!("ASIAFAKE{n:012}"), "SecretAccessKey": "fake-secret",
            "Token": "fake-token", "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "SourceIdentity": format!("tvm.fake.direct.{n:012}"),
            "RoleArn": "arn:aws:iam::111122223333:role/Fake",
        }))
        .into_response();
    }
    let Some(list) = s.answers.get_mut(&target) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"Code": "NOT_FOUND"})),
        )
            .into_response();
    };
    let (status, body) = if list.len() > 1 {
        list.remove(0)
    } else {
        list[0].clone()
    };
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn session(id: &str, rid: &str, status: &str, caller: &str) -> Value {
    json!({
        "Id": id, "RequestId": rid, "CreatedAt": "2026-01-01T10:00:00Z",
        "ExpiresAt": "2099-01-01T11:00:00Z", "Caller": caller, "CallerUserId": "AIDAFAKE",
        "CallerAccessKeyId": "AKIAFAKECALLER000001", "ClientAddress": "127.0.0.1",
        "Username": "alice", "Profile": "readonly",
        "RoleArn": "arn:aws:iam::111122223333:role/Fake", "Rule": "r", "Kind": "direct",
        "GrantId": null, "SourceIdentity": format!("tvm.alice.direct.{rid}"),
        "SessionName": format!("tvm-alice-{rid}"), "Status": status, "RevocationId": null
    })
}

fn revocation(kind: &str, target: Value, sessions: &[&str]) -> Value {
    json!({
        "Id": REV, "Kind": kind, "Target": target, "Reason": "done",
        "By": "arn:aws:iam::111122223333:user/alice", "CreatedAt": "2026-01-01T10:00:00Z",
        "SuspendedUntil": null, "Sessions": sessions, "BlockedCallerKeys": [],
        "Roles": [{"RoleArn": "arn:aws:iam::111122223333:role/Fake", "Status": "applied"}],
        "LiftedAt": null, "LiftedBy": null, "LiftReason": null
    })
}

/// Escape sequences, a bell, separators and bidi controls: none may appear raw.
const HIDDEN: &[char] = &['\u{1b}', '\u{7}', '\r', '\u{85}', '\u{2028}', '\u{202e}'];

fn nothing_raw(out: &std::process::Output) {
    for text in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(text);
        assert!(!text.chars().any(|c| HIDDEN.contains(&c)), "raw: {text:?}");
    }
}

/// `tvm ARGS` with TVM_URL pointing at the fake (no --url).
async fn run(env: &ClientEnv, fake: &Fake, args: &[&str]) -> std::process::Output {
    output(env.tvm(args).envs(FAKE_KEYS).env("TVM_URL", &fake.url)).await
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_uses_tvm_url_prints_escaped_and_refuses_a_hostile_listing() {
    let fake = Fake::start().await;
    let env = ClientEnv::new();
    let evil = "arn:aws:iam::111122223333:user/\u{1b}]0;x\u{7}alice\u{202e}";
    fake.on(
        "GET /sessions",
        200,
        json!({"Sessions": [session(KEY1, RID, "live", evil)]}),
    );
    let out = run(&env, &fake, &["sessions"]).await;
    assert!(out.status.success(), "{}", shown(&out));
    nothing_raw(&out);
    assert!(stdout(&out).contains(KEY1), "{}", shown(&out));
    assert!(
        stdout(&out).contains("\\u{1b}]0;x\\u{7}alice\\u{202e}"),
        "{}",
        shown(&out)
    );
    // --json: one line of printable ASCII that reads back exactly.
    let out = run(
        &env,
        &fake,
        &["sessions", "--json", "--user", "a b&all=true"],
    )
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    let line = stdout(&out);
    assert!(
        line.trim_end().bytes().all(|b| (0x20..0x7f).contains(&b)),
        "{line}"
    );
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["Sessions"][0]["Caller"], evil);
    let q: Vec<String> = fake.seen().iter().map(|s| s.query.clone()).collect();
    assert_eq!(q, ["", "user=a+b%26all%3Dtrue"]);
    let out = run(&env, &fake, &["sessions", "--all"]).await;
    assert!(out.status.success());
    assert_eq!(fake.seen().last().unwrap().query, "all=true");
    // A bad id, status or stamp refuses the whole listing.
    for bad in [
        session("ASIA\u{1b}[2JFAKE00000001", RID, "live", "a"),
        session(KEY1, RID, "live\u{7}", "a"),
        session(KEY1, "../../vend/x", "live", "a"),
    ] {
        let fake = Fake::start().await;
        fake.on(
            "GET /sessions",
            200,
            json!({"Sessions": [session(KEY2, RID, "live", "a"), bad]}),
        );
        let out = run(&env, &fake, &["sessions"]).await;
        assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
        assert!(out.stdout.is_empty(), "{}", shown(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("refused the server's answer"));
        nothing_raw(&out);
    }
    // Without --url or TVM_URL: a usage error before any call.
    let out = output(env.tvm(&["sessions"]).envs(FAKE_KEYS)).await;
    assert_eq!(out.status.code(), Some(2), "{}", shown(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_resolves_each_form_of_arg_to_one_live_session_and_drops_it_from_the_cache() {
    let fake = Fake::start().await;
    let env = ClientEnv::new();
    // A cached session of ours: tvm credentials vends KEY1 and caches it.
    let creds = ["credentials", "--profile", "readonly"];
    assert!(run(&env, &fake, &creds).await.status.success());
    assert!(run(&env, &fake, &creds).await.status.success());
    assert_eq!(
        fake.s.lock().unwrap().vends,
        1,
        "second call served from the cache"
    );

    // The answer lists no sessions: the targeted one is dropped all the same.
    fake.on(
        &format!("POST /sessions/{KEY1}/revoke"),
        201,
        revocation("session", json!({"SessionId": KEY1}), &[]),
    );
    let out = run(&env, &fake, &["revoke", KEY1, "--reason", "done"]).await;
    assert!(out.status.success(), "{}", shown(&out));
    assert!(
        stdout(&out).contains("dropped 1 revoked session(s)"),
        "{}",
        shown(&out)
    );
    let seen = fake.seen();
    let revoke = seen.last().unwrap();
    assert_eq!(revoke.target, format!("POST /sessions/{KEY1}/revoke"));
    assert_eq!(revoke.body, json!({"reason": "done"}));
    // The revoked session is not served again: the next call vends.
    assert!(run(&env, &fake, &creds).await.status.success());
    assert_eq!(fake.s.lock().unwrap().vends, 2);

    // A SourceIdentity, a RoleSessionName, a request id: by the last 12 hex.
    fake.on(
        "GET /sessions",
        200,
        json!({"Sessions": [
            session(KEY2, RID, "live", "a"), session("ASIAFAKE000000000009", RID, "revoked", "a"),
            session("ASIAFAKE000000000008", "000000000000", "live", "a"),
        ]}),
    );
    fake.on(
        &format!("POST /sessions/{KEY2}/revoke"),
        201,
        revocation("session", json!({"SessionId": KEY2}), &[KEY2]),
    );
    for arg in [
        format!("tvm.alice.direct.{RID}"),
        format!("tvm-alice-{RID}"),
        RID.to_owned(),
    ] {
        let before = fake.seen().len();
        let out = run(&env, &fake, &["revoke", &arg, "--reason", "done"]).await;
        assert!(out.status.success(), "{arg}: {}", shown(&out));
        let targets: Vec<String> = fake.targets()[before..].to_vec();
        assert_eq!(
            targets,
            [
                "GET /sessions".to_owned(),
                format!("POST /sessions/{KEY2}/revoke")
            ],
            "{arg}"
        );
    }

    // Two live sessions share the request id: 409, nothing revoked.
    let fake = Fake::start().await;
    fake.on(
        "GET /sessions",
        200,
        json!({"Sessions": [
        session(KEY1, RID, "live", "a"), session(KEY2, RID, "live", "a")]}),
    );
    let out = run(&env, &fake, &["revoke", RID, "--reason", "done"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("409") && err.contains(KEY1) && err.contains(KEY2),
        "{err}"
    );
    assert!(
        fake.targets().iter().all(|t| !t.ends_with("/revoke")),
        "{:?}",
        fake.targets()
    );

    // Not among one's own: an admin's listing (?all=true) finds it; a
    // non-admin's 403 there means there is nothing to revoke.
    let fake = Fake::start().await;
    fake.on("GET /sessions", 200, json!({"Sessions": []}));
    fake.on(
        "GET /sessions",
        200,
        json!({"Sessions": [session(KEY2, RID, "live", "bob")]}),
    );
    fake.on(
        &format!("POST /sessions/{KEY2}/revoke"),
        201,
        revocation("session", json!({"SessionId": KEY2}), &[KEY2]),
    );
    let out = run(&env, &fake, &["revoke", RID, "--reason", "done"]).await;
    assert!(out.status.success(), "{}", shown(&out));
    let queries: Vec<String> = fake.seen().iter().map(|s| s.query.clone()).collect();
    assert_eq!(queries, ["", "all=true", ""]);
    let fake = Fake::start().await;
    fake.on("GET /sessions", 200, json!({"Sessions": []}));
    fake.on("GET /sessions", 403, json!({"Code": "POLICY_DENY"}));
    let out = run(&env, &fake, &["revoke", RID, "--reason", "done"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no live session has request id"));
    let fake = Fake::start().await;
    fake.on("GET /sessions", 200, json!({"Sessions": []}));
    fake.on("GET /sessions", 500, json!({"Code": "INTERNAL"}));
    let out = run(&env, &fake, &["revoke", RID, "--reason", "done"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tvm answered 500"),
        "{}",
        shown(&out)
    );

    // An ARG that names nothing is a usage error before any call.
    let fake = Fake::start().await;
    for bad in ["../../vend", "AKIAFAKECALLER000001", "tvm.alice.x\u{1b}[2J"] {
        let out = run(&env, &fake, &["revoke", bad, "--reason", "x"]).await;
        assert_eq!(out.status.code(), Some(64), "{bad}: {}", shown(&out));
        nothing_raw(&out);
    }
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_ends_grants_caller_keys_and_people_with_the_wire_bodies_of_design_13() {
    let fake = Fake::start().await;
    let env = ClientEnv::new();
    fake.on(
        &format!("POST /requests/{REV}/revoke"),
        201,
        revocation("grant", json!({"GrantId": REV}), &[]),
    );
    let out = run(&env, &fake, &["revoke", "--grant", REV, "--reason", "done"]).await;
    assert!(out.status.success(), "{}", shown(&out));

    let mut leaked = revocation(
        "credentials",
        json!({"CallerAccessKeyId": "AKIAFAKECALLER000009"}),
        &[KEY1],
    );
    leaked["Message"] = json!("deactivate the key in IAM\u{1b}[2J");
    leaked["Roles"][0] = json!({"RoleArn": "arn:aws:iam::111122223333:role/Fake", "Status": "failed",
        "Error": "LimitExceeded: Cannot exceed quota", "PolicyName": "tvm-revocations-tvm-prod",
        "Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"TvmRevokedSessionsProd\",\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}"});
    fake.on("POST /revocations", 201, leaked);
    let out = run(
        &env,
        &fake,
        &[
            "revoke",
            "--caller-key",
            "AKIAFAKECALLER000009",
            "--reason",
            "leaked",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    nothing_raw(&out);
    let text = stdout(&out);
    assert!(
        text.contains("note: deactivate the key in IAM\\u{1b}[2J"),
        "{text}"
    );
    assert!(text.contains("AWS's fallback"), "{text}");
    assert!(
        text.contains(
            "aws iam put-role-policy --role-name Fake --policy-name tvm-revocations-tvm-prod"
        ),
        "{text}"
    );
    assert_eq!(
        fake.seen().last().unwrap().body,
        json!({"target": {"CallerAccessKeyId": "AKIAFAKECALLER000009"}, "reason": "leaked"})
    );

    let fake = Fake::start().await;
    let mut preview = revocation("person", json!({"User": "alice@example.com"}), &[KEY1]);
    preview["Id"] = Value::Null;
    fake.on("POST /revocations", 200, preview);
    let out = run(
        &env,
        &fake,
        &[
            "revoke",
            "--user",
            "alice@example.com",
            "--suspend",
            "24h",
            "--dry-run",
            "--reason",
            "left",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    assert!(
        stdout(&out).starts_with("would revoke (dry run) (person) of User alice@example.com"),
        "{}",
        shown(&out)
    );
    assert_eq!(
        fake.seen().last().unwrap().body,
        json!({"target": {"User": "alice@example.com"}, "reason": "left", "suspend_seconds": 86400, "dry_run": true})
    );
    // A hostile answer (two targets) is refused before anything is printed.
    let fake = Fake::start().await;
    fake.on(
        "POST /revocations",
        201,
        revocation("person", json!({"User": "a", "Principal": "b"}), &[]),
    );
    let out = run(
        &env,
        &fake,
        &[
            "revoke",
            "--principal",
            "arn:aws:iam::111122223333:role/Ci",
            "--reason",
            "x",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(out.stdout.is_empty());
    // Usage: --suspend without a person, --dry-run on a session.
    for args in [
        vec!["revoke", "--grant", REV, "--suspend", "1h", "--reason", "x"],
        vec!["revoke", KEY1, "--dry-run", "--reason", "x"],
        vec![
            "revoke",
            "--user",
            "a",
            "--suspend",
            "soon",
            "--reason",
            "x",
        ],
        vec!["revoke", KEY1, "--reason", ""],
    ] {
        let out = run(&env, &fake, &args).await;
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", shown(&out));
    }
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_lists_shows_checks_and_lifts() {
    let fake = Fake::start().await;
    let env = ClientEnv::new();
    fake.on(
        "GET /revocations",
        200,
        json!({"Revocations": [revocation("person", json!({"User": "bob"}), &[])]}),
    );
    fake.on(
        &format!("GET /revocations/{REV}"),
        200,
        revocation("person", json!({"User": "bob"}), &[]),
    );
    fake.on(
        &format!("GET /revocations/{REV}/check"),
        200,
        json!({"Roles": [{"RoleArn": "arn:aws:iam::111122223333:role/Fake", "Status": "missing"}]}),
    );
    let mut lifted = revocation("person", json!({"User": "bob"}), &[]);
    lifted["LiftedAt"] = json!("2026-01-02T10:00:00Z");
    lifted["LiftedBy"] = json!("arn:aws:iam::111122223333:user/sec/carol");
    lifted["LiftReason"] = json!("back");
    fake.on(&format!("POST /revocations/{REV}/lift"), 200, lifted);

    let out = run(&env, &fake, &["revocations", "--status", "all"]).await;
    assert!(out.status.success(), "{}", shown(&out));
    assert!(stdout(&out).contains(REV));
    assert_eq!(fake.seen().last().unwrap().query, "status=all");
    let out = run(&env, &fake, &["revocations", REV]).await;
    assert!(
        stdout(&out).contains("role arn:aws:iam::111122223333:role/Fake: applied"),
        "{}",
        shown(&out)
    );
    let out = run(&env, &fake, &["revocations", REV, "--check"]).await;
    assert!(
        stdout(&out).contains("role/Fake: missing"),
        "{}",
        shown(&out)
    );
    let out = run(
        &env,
        &fake,
        &["revocations", "lift", REV, "--reason", "back"],
    )
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    assert!(
        stdout(&out).contains("lifted at 2026-01-02T10:00:00Z"),
        "{}",
        shown(&out)
    );
    let last = fake.seen().last().unwrap().clone();
    assert_eq!(
        (last.target.as_str(), last.body),
        (
            format!("POST /revocations/{REV}/lift").as_str(),
            json!({"reason": "back"})
        )
    );
    // An id that could steer the token elsewhere never reaches a path.
    let before = fake.seen().len();
    let out = run(
        &env,
        &fake,
        &["revocations", "lift", "../../vend", "--reason", "x"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert_eq!(fake.seen().len(), before);
}

fn event(seq: i64, detail: &str) -> Value {
    json!({"At": "2026-01-01T10:00:00Z", "Seq": seq, "Event": "created",
        "Actor": "arn:aws:iam::111122223333:user/alice", "Subject": REV, "Profile": "readonly",
        "SourceIdentity": "", "RequestId": RID, "Detail": detail})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_follows_next_to_the_end_and_guards_csv_cells() {
    let fake = Fake::start().await;
    let env = ClientEnv::new();
    fake.on("GET /audit", 200, json!({"Events": [event(1, "=HYPERLINK(\"x\")"), event(2, "a,b")], "Next": "dHZtLWF1ZGl0LXYxOjI"}));
    fake.on(
        "GET /audit",
        200,
        json!({"Events": [event(5, "line\nbreak\u{1b}[2J")], "Next": null}),
    );
    let out = run(&env, &fake, &["audit", "--since", "24h", "--format", "csv"]).await;
    assert!(out.status.success(), "{}", shown(&out));
    nothing_raw(&out);
    let csv = stdout(&out);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "At,Seq,Event,Actor,Subject,Profile,SourceIdentity,RequestId,Detail"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].ends_with(",\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
    assert!(lines[2].ends_with(",\"a,b\""), "{csv}");
    assert!(
        lines[3].starts_with("2026-01-01T10:00:00Z,5,")
            && lines[3].ends_with(",line\\nbreak\\u{1b}[2J"),
        "{csv}"
    );
    let seen = fake.seen();
    assert!(seen[0].query.starts_with("since="), "{}", seen[0].query);
    assert!(
        seen[1].query.ends_with("cursor=dHZtLWF1ZGl0LXYxOjI"),
        "{}",
        seen[1].query
    );

    // JSON lines, printable ASCII.
    let fake = Fake::start().await;
    fake.on(
        "GET /audit",
        200,
        json!({"Events": [event(1, "bidi\u{202e}")], "Next": null}),
    );
    let out = run(
        &env,
        &fake,
        &["audit", "--since", "2026-01-01T00:00:00Z", "--until", "1h"],
    )
    .await;
    assert!(out.status.success(), "{}", shown(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["Detail"], "bidi\u{202e}");
    assert!(
        fake.seen()[0].query.contains("since=1767225600")
            && fake.seen()[0].query.contains("until=")
    );

    // A server that loops or reorders the export is refused.
    for pages in [
        vec![
            json!({"Events": [event(3, "x")], "Next": "c1"}),
            json!({"Events": [event(3, "x")], "Next": "c1"}),
        ],
        vec![json!({"Events": [], "Next": "c1"})],
        vec![json!({"Events": [event(1, "x")], "Next": "a&limit=5"})],
        vec![
            json!({"Events": [event(1, "x"), {"At": "now\u{1b}[2J", "Seq": 2, "Event": "x", "Actor": "", "Subject": ""}]}),
        ],
    ] {
        let fake = Fake::start().await;
        for p in pages {
            fake.on("GET /audit", 200, p);
        }
        let out = run(&env, &fake, &["audit"]).await;
        assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
        nothing_raw(&out);
        assert!(fake.seen().len() <= 2);
    }
    let out = run(&env, &fake, &["audit", "--since", "last week"]).await;
    assert_eq!(out.status.code(), Some(64), "{}", shown(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_revoke_on_exit_revokes_the_commands_session_and_fails_when_it_cannot() {
    let fake = Fake::start().await;
    let env = ClientEnv::new();
    fake.on(
        &format!("POST /sessions/{KEY1}/revoke"),
        201,
        revocation("session", json!({"SessionId": KEY1}), &[KEY1]),
    );
    let out = run(
        &env,
        &fake,
        &[
            "exec",
            "--profile",
            "readonly",
            "--revoke-on-exit",
            "--",
            "true",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    assert_eq!(
        fake.targets(),
        [
            "POST /vend".to_owned(),
            format!("POST /sessions/{KEY1}/revoke")
        ]
    );
    assert!(fake.seen()[1].body["reason"]
        .as_str()
        .unwrap()
        .contains("revoke-on-exit"));
    // The revoke fails: an error and a non-zero exit although the command succeeded.
    fake.on(
        &format!("POST /sessions/{KEY2}/revoke"),
        503,
        json!({"Code": "UNAVAILABLE"}),
    );
    let out = run(
        &env,
        &fake,
        &[
            "exec",
            "--profile",
            "readonly",
            "--revoke-on-exit",
            "--",
            "true",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--revoke-on-exit"),
        "{}",
        shown(&out)
    );
    // The command's own failure code wins.
    let out = run(
        &env,
        &fake,
        &[
            "exec",
            "--profile",
            "readonly",
            "--revoke-on-exit",
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(7), "{}", shown(&out));
    // Without the flag nothing is revoked.
    let before = fake.seen().len();
    let out = run(
        &env,
        &fake,
        &["exec", "--profile", "readonly", "--", "true"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    assert_eq!(fake.targets()[before..], ["POST /vend".to_owned()]);
}

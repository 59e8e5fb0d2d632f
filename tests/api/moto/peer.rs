//! The peer under test: a `moto_server` child process (started on a free
//! loopback port, killed on drop), its IAM setup, and an aws-sdk-sts client
//! that keeps the raw XML it was answered with.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use quick_xml::events::Event;

use crate::support::request;

/// How long moto may take to import and listen (a loaded CI machine).
const MOTO_START_TIMEOUT: Duration = Duration::from_secs(20);
/// Pause between two connection attempts while moto starts.
const MOTO_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Requests moto serves unauthenticated before it checks SigV4: the three
/// that create tvm's IAM user, its access key and its policy.
const SETUP_ACTIONS: u32 = 3;

/// A Python that can import moto's server, or `None` (with a notice) outside CI.
pub fn moto_python() -> Option<String> {
    let candidates = std::env::var("BOTOCORE_PYTHON").ok().into_iter().chain(
        Some(concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python").to_owned())
            .filter(|p| std::path::Path::new(p).exists()),
    );
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", "import moto.server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(py);
        }
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI needs a Python with moto[server]: set BOTOCORE_PYTHON (see .ci/run)"
    );
    eprintln!("skipping moto tests: no Python with moto[server] (run .ci/run once)");
    None
}

/// A `moto_server` child process on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Moto {
    /// Starts moto; with `no_auth_actions = Some(n)` it checks SigV4 (and IAM
    /// policies) on every request after the first `n`.
    pub fn start(py: &str, no_auth_actions: Option<u32>) -> Self {
        let port = crate::support::free_port();
        let mut cmd = Command::new(py);
        cmd.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if let Some(n) = no_auth_actions {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
        }
        let mut moto = Moto {
            child: cmd.spawn().expect("moto_server starts"),
            url: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + MOTO_START_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&addr, MOTO_POLL_INTERVAL).is_ok() {
                return moto;
            }
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto_server exited before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {addr} within {MOTO_START_TIMEOUT:?}"
            );
            std::thread::sleep(MOTO_POLL_INTERVAL);
        }
    }
}

/// Starts moto checking signatures, with an IAM user for tvm (allowed every
/// action) created in the unauthenticated window; returns its access key.
pub async fn moto_with_user(py: &str) -> (Moto, Credentials) {
    let moto = Moto::start(py, Some(SETUP_ACTIONS));
    let user = "tvm-service";
    iam(&moto, &format!("Action=CreateUser&UserName={user}")).await;
    let key = iam(&moto, &format!("Action=CreateAccessKey&UserName={user}")).await;
    let policy =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let policy: String = policy
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    iam(
        &moto,
        &format!("Action=PutUserPolicy&UserName={user}&PolicyName=all&PolicyDocument={policy}"),
    )
    .await;
    let creds = Credentials::new(
        xml_text(&key, "AccessKeyId"),
        xml_text(&key, "SecretAccessKey"),
        None,
        None,
        "moto-iam",
    );
    (moto, creds)
}

/// One unsigned IAM query call (moto routes it by the credential scope of an
/// `Authorization` header it does not check yet); returns the XML body.
pub async fn iam(moto: &Moto, form: &str) -> String {
    let scope = "Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request";
    let headers = [
        (
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        ),
        (
            "authorization",
            format!("AWS4-HMAC-SHA256 {scope}, SignedHeaders=host, Signature=0"),
        ),
    ];
    let body = format!("{form}&Version=2010-05-08");
    let resp = request(
        "POST",
        &format!("{}/", moto.url),
        &headers,
        body.into_bytes(),
    )
    .await;
    assert_eq!(resp.status, 200, "IAM setup call failed: {}", resp.body);
    resp.body
}

/// The text of the first `<tag>` element.
pub fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{tag}>")) + open.len();
    let len = xml[start..].find("</").unwrap();
    xml[start..start + len].to_owned()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain aws-sdk-sts client for `url` signing with `creds` (no retries).
pub fn sts_client(url: &str, creds: Credentials) -> aws_sdk_sts::Client {
    sts_client_with(url, creds, RawBody::default())
}

/// Keeps the last response body the SDK deserialised: the XML itself, with
/// the elements the SDK's model would silently skip.
#[derive(Debug, Clone, Default)]
pub struct RawBody(Arc<Mutex<Vec<u8>>>);

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "RawBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.response().body().bytes().unwrap_or_default();
        *self.0.lock().unwrap() = body.to_vec();
        Ok(())
    }
}

impl RawBody {
    /// The last body, emptied.
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

pub fn sts_client_with(url: &str, creds: Credentials, raw: RawBody) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .interceptor(raw)
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(creds)
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

pub fn moto_credentials(body: &serde_json::Value) -> Credentials {
    Credentials::new(
        body["AccessKeyId"].as_str().unwrap(),
        body["SecretAccessKey"].as_str().unwrap(),
        Some(body["Token"].as_str().unwrap().to_owned()),
        None,
        "moto",
    )
}

/// Every element path of an XML document (`A/B/C`), the shape of an answer
/// whatever the SDK's model keeps of it.
pub fn element_paths(xml: &str) -> BTreeSet<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut stack, mut paths) = (Vec::<String>::new(), BTreeSet::new());
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                stack.push(String::from_utf8(e.local_name().as_ref().to_vec()).unwrap());
                paths.insert(stack.join("/"));
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.local_name().as_ref().to_vec()).unwrap();
                paths.insert(format!("{}/{name}", stack.join("/")));
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => return paths,
            _ => {}
        }
    }
}

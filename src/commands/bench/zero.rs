//! The zero-cost upstream of `tvm bench --upstream zero`: answers a request
//! whose body asks for `Action=AssumeRole` with a canned AssumeRole document
//! and every other request (the presigned GET, and the SDK's form-POSTed
//! GetCallerIdentity of tvm's start-up self-check) with a canned
//! GetCallerIdentity document for the bench caller, checking nothing.
//! With it, what a vend costs is tvm's own work (and the loopback sockets).
//!
//! Invariants: the documents parse as real STS answers (tvm vends from them);
//! the credentials in them are placeholders that work nowhere, each with its
//! own AccessKeyId (as AWS's are: the ledger refuses a key it already holds,
//! and a Postgres ledger keeps the rows of earlier benches); it never
//! verifies a signature, so it is only ever started by `tvm bench` on loopback
//! (a hidden subcommand).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::RngCore;
use tokio::net::TcpListener;

use crate::commands::demo::DEMO_USER_ARN;

/// The GetCallerIdentity answer: the bench caller (the demo user).
const CALLER_IDENTITY: &str = concat!(
    r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#,
    "<GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/demo/alice</Arn>",
    "<UserId>AIDABENCHALICE000000</UserId><Account>111122223333</Account>",
    "</GetCallerIdentityResult><ResponseMetadata>",
    "<RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>",
    "</ResponseMetadata></GetCallerIdentityResponse>"
);

/// The AssumeRole answer up to its AccessKeyId: placeholder credentials
/// for the bench role.
const ASSUME_ROLE_HEAD: &str = concat!(
    r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#,
    "<AssumeRoleResult><SourceIdentity>tvm.alice.bench.000000000000</SourceIdentity>",
    "<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/TvmDemoReadOnly/tvm-alice-bench</Arn>",
    "<AssumedRoleId>AROABENCH00000000000:tvm-alice-bench</AssumedRoleId></AssumedRoleUser>",
    "<Credentials><AccessKeyId>",
);

/// The AssumeRole answer after its AccessKeyId.
const ASSUME_ROLE_TAIL: &str = concat!(
    "</AccessKeyId><SecretAccessKey>benchsecretbenchsecretbenchsecret0000000</SecretAccessKey>",
    "<SessionToken>FwoGZXIvYXdzEBENCHSESSIONTOKENBENCHSESSIONTOKENBENCHSESSIONTOKEN</SessionToken>",
    "<Expiration>2036-01-01T00:00:00Z</Expiration></Credentials>",
    "<PackedPolicySize>0</PackedPolicySize></AssumeRoleResult><ResponseMetadata>",
    "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>",
    "</AssumeRoleResponse>"
);

/// The caller the canned GetCallerIdentity names (the bench policy allows it).
pub const ZERO_CALLER_ARN: &str = DEMO_USER_ARN;

/// Answers so far (the AccessKeyId's last ten digits).
static ANSWERS: AtomicU64 = AtomicU64::new(0);

/// A fresh AccessKeyId: `ASIA`, six hex digits of this process (random), and
/// a counter.
fn access_key_id() -> String {
    static PROCESS: OnceLock<String> = OnceLock::new();
    let process = PROCESS.get_or_init(|| {
        let mut b = [0u8; 3];
        rand::rng().fill_bytes(&mut b);
        hex::encode_upper(b)
    });
    let n = ANSWERS.fetch_add(1, Ordering::Relaxed) % 10_000_000_000;
    format!("ASIA{process}{n:010}")
}

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let post = req.method() == Method::POST;
    // Read the body so the connection stays usable for the next request.
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let assume_role = post && contains(&body, b"Action=AssumeRole");
    let doc = if assume_role {
        Bytes::from(format!(
            "{ASSUME_ROLE_HEAD}{}{ASSUME_ROLE_TAIL}",
            access_key_id()
        ))
    } else {
        Bytes::from_static(CALLER_IDENTITY.as_bytes())
    };
    let mut response = Response::new(Full::new(doc));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, "text/xml".parse().expect("static"));
    headers.insert(
        "x-amzn-requestid",
        "01234567-89ab-cdef-0123-456789abcdef"
            .parse()
            .expect("static"),
    );
    Ok(response)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `tvm bench-upstream` (hidden).
#[derive(Debug, clap::Args)]
pub struct UpstreamArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

/// Serves the canned answers on `addr` until the process is stopped; prints
/// `tvm bench upstream: listening on http://ADDR` first.
pub async fn run(addr: SocketAddr) -> ExitCode {
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tvm bench upstream: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("tvm bench upstream: listening on http://{a}"),
        Err(e) => {
            eprintln!("tvm bench upstream: {e}");
            return ExitCode::FAILURE;
        }
    }
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}

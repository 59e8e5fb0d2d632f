//! The zero-cost upstream of `tvm bench --upstream zero`: answers a request
//! whose body asks for `Action=AssumeRole` with a canned AssumeRole document
//! and every other request (the presigned GET, and the SDK's form-POSTed
//! GetCallerIdentity of tvm's start-up self-check) with a canned
//! GetCallerIdentity document for the bench caller, checking nothing.
//! With it, what a vend costs is tvm's own work (and the loopback sockets).
//!
//! Invariants: the documents parse as real STS answers (tvm vends from them);
//! the credentials in them are fixed placeholders that work nowhere; it never
//! verifies a signature, so it is only ever started by `tvm bench` on loopback
//! (a hidden subcommand).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
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

/// The AssumeRole answer: placeholder credentials for the bench role.
const ASSUME_ROLE: &str = concat!(
    r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#,
    "<AssumeRoleResult><SourceIdentity>tvm.alice.bench.000000000000</SourceIdentity>",
    "<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/TvmDemoReadOnly/tvm-alice-bench</Arn>",
    "<AssumedRoleId>AROABENCH00000000000:tvm-alice-bench</AssumedRoleId></AssumedRoleUser>",
    "<Credentials><AccessKeyId>ASIABENCH00000000000</AccessKeyId>",
    "<SecretAccessKey>benchsecretbenchsecretbenchsecret0000000</SecretAccessKey>",
    "<SessionToken>FwoGZXIvYXdzEBENCHSESSIONTOKENBENCHSESSIONTOKENBENCHSESSIONTOKEN</SessionToken>",
    "<Expiration>2036-01-01T00:00:00Z</Expiration></Credentials>",
    "<PackedPolicySize>0</PackedPolicySize></AssumeRoleResult><ResponseMetadata>",
    "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>",
    "</AssumeRoleResponse>"
);

/// The caller the canned GetCallerIdentity names (the bench policy allows it).
pub const ZERO_CALLER_ARN: &str = DEMO_USER_ARN;

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let post = req.method() == Method::POST;
    // Read the body so the connection stays usable for the next request.
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let assume_role = post && contains(&body, b"Action=AssumeRole");
    let doc = if assume_role {
        ASSUME_ROLE
    } else {
        CALLER_IDENTITY
    };
    let mut response = Response::new(Full::new(Bytes::from_static(doc.as_bytes())));
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

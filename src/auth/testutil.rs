//! Test support for the verifier: an independent SigV4 query presigner and a fake
//! STS transport that checks signatures the way STS does and records every call.
//!
//! Written from the SigV4 specification, not from `aws-sigv4`, so that tokens
//! minted by the client (with `aws-sigv4`) and checked here cross-check the two.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::StatusCode;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::{IdentityTransport, TransportError, TransportResponse};
use crate::net::{encode_query, parse_query};

/// The fixed clock of most tests: 2024-05-01T12:00:00Z.
pub(crate) fn t0() -> Timestamp {
    "2024-05-01T12:00:00Z".parse().expect("timestamp")
}

/// `yyyymmddThhmmssZ`.
pub(crate) fn amz_date(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key size");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The SigV4 signature of a GET `/` with `params` (without X-Amz-Signature) and
/// `headers` (lowercase names, including `host`), for service `sts`.
pub(crate) fn sign(
    secret: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
) -> String {
    let get = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let amz_date = get("X-Amz-Date");
    let scope = get("X-Amz-Credential")
        .split_once('/')
        .map(|(_, s)| s)
        .unwrap_or_default();
    let mut scope_parts = scope.split('/');
    let (date, region) = (
        scope_parts.next().unwrap_or_default(),
        scope_parts.next().unwrap_or_default(),
    );

    let mut sorted: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    sorted.sort_by(|a, b| {
        (
            crate::net::sigv4_encode(&a.0),
            crate::net::sigv4_encode(&a.1),
        )
            .cmp(&(
                crate::net::sigv4_encode(&b.0),
                crate::net::sigv4_encode(&b.1),
            ))
    });
    let query = encode_query(sorted.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut hdrs = headers.to_vec();
    hdrs.sort();
    let canonical_headers: String = hdrs
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed: Vec<&str> = hdrs.iter().map(|(k, _)| k.as_str()).collect();
    let creq = format!(
        "GET\n/\n{query}\n{canonical_headers}\n{}\n{}",
        signed.join(";"),
        hex::encode(Sha256::digest(b""))
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(creq.as_bytes()))
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k = hmac(&k, region);
    let k = hmac(&k, "sts");
    let k = hmac(&k, "aws4_request");
    hex::encode(hmac(&k, &sts))
}

/// A caller's key as the fake STS knows it.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) secret: String,
    pub(crate) arn: String,
    pub(crate) user_id: String,
    pub(crate) account: String,
}

/// Options for [`presign`].
pub(crate) struct Presign<'a> {
    pub(crate) base: &'a str,
    pub(crate) host: &'a str,
    pub(crate) akid: &'a str,
    pub(crate) secret: &'a str,
    pub(crate) region: &'a str,
    pub(crate) at: Timestamp,
    pub(crate) expires: u32,
    pub(crate) session_token: Option<&'a str>,
    /// Extra signed headers (lowercase names), besides `host`.
    pub(crate) headers: Vec<(&'a str, String)>,
}

/// A presigned GetCallerIdentity URL.
pub(crate) fn presign(p: &Presign<'_>) -> String {
    let date = amz_date(p.at);
    let mut headers: Vec<(String, String)> = vec![("host".into(), p.host.into())];
    headers.extend(p.headers.iter().map(|(k, v)| (k.to_string(), v.clone())));
    headers.sort();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let mut params: Vec<(String, String)> = vec![
        ("Action".into(), "GetCallerIdentity".into()),
        ("Version".into(), "2011-06-15".into()),
        ("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()),
        (
            "X-Amz-Credential".into(),
            format!("{}/{}/{}/sts/aws4_request", p.akid, &date[..8], p.region),
        ),
        ("X-Amz-Date".into(), date.clone()),
        ("X-Amz-Expires".into(), p.expires.to_string()),
        ("X-Amz-SignedHeaders".into(), signed.join(";")),
    ];
    if let Some(t) = p.session_token {
        params.push(("X-Amz-Security-Token".into(), t.into()));
    }
    let signature = sign(p.secret, &params, &headers);
    params.push(("X-Amz-Signature".into(), signature));
    let query = encode_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    format!("{}/?{query}", p.base)
}

/// What the fake STS answers.
pub(crate) enum Mode {
    /// Check the SigV4 signature against known keys, like STS.
    Verify(HashMap<String, Key>),
    /// Always this response.
    Fixed(TransportResponse),
    /// Always this error.
    Fail(TransportError),
}

/// A recording [`IdentityTransport`].
pub(crate) struct FakeSts {
    pub(crate) mode: Mode,
    pub(crate) calls: Mutex<Vec<http::Request<()>>>,
}

impl FakeSts {
    pub(crate) fn new(mode: Mode) -> Arc<Self> {
        Arc::new(Self {
            mode,
            calls: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.lock().expect("lock").len()
    }

    pub(crate) fn last(&self) -> http::Request<()> {
        let calls = self.calls.lock().expect("lock");
        let last = calls.last().expect("a call");
        let mut b = http::Request::builder()
            .method(last.method())
            .uri(last.uri());
        for (k, v) in last.headers() {
            b = b.header(k, v);
        }
        b.body(()).expect("request")
    }

    fn check(keys: &HashMap<String, Key>, req: &http::Request<()>) -> TransportResponse {
        let params = parse_query(req.uri().query().unwrap_or_default()).unwrap_or_default();
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let akid = get("X-Amz-Credential")
            .and_then(|c| c.split('/').next().map(str::to_owned))
            .unwrap_or_default();
        let Some(key) = keys.get(&akid) else {
            return error(403, "InvalidClientTokenId");
        };
        let signed = get("X-Amz-SignedHeaders").unwrap_or_default();
        let mut headers = Vec::new();
        for name in signed.split(';') {
            let Some(v) = req.headers().get(name).and_then(|v| v.to_str().ok()) else {
                return error(403, "SignatureDoesNotMatch");
            };
            headers.push((name.to_owned(), v.to_owned()));
        }
        if Some(sign(&key.secret, &params, &headers)) != get("X-Amz-Signature") {
            return error(403, "SignatureDoesNotMatch");
        }
        gci_xml(&key.arn, &key.user_id, &key.account)
    }
}

#[async_trait]
impl IdentityTransport for FakeSts {
    async fn send(&self, request: http::Request<()>) -> Result<TransportResponse, TransportError> {
        let response = match &self.mode {
            Mode::Verify(keys) => Ok(Self::check(keys, &request)),
            Mode::Fixed(r) => Ok(r.clone()),
            Mode::Fail(e) => Err(e.clone()),
        };
        self.calls.lock().expect("lock").push(request);
        response
    }
}

/// A response with status, content type and body.
pub(crate) fn response(status: u16, content_type: &str, body: &str) -> TransportResponse {
    TransportResponse {
        status: StatusCode::from_u16(status).expect("status"),
        content_type: Some(content_type.to_owned()),
        request_id: None,
        body: Bytes::from(body.to_owned()),
    }
}

/// STS's XML success shape.
pub(crate) fn gci_xml(arn: &str, user_id: &str, account: &str) -> TransportResponse {
    response(
        200,
        "text/xml",
        &format!(
            r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>{arn}</Arn>
    <UserId>{user_id}</UserId>
    <Account>{account}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
"#
        ),
    )
}

/// STS's XML error shape.
pub(crate) fn error(status: u16, code: &str) -> TransportResponse {
    response(
        status,
        "text/xml",
        &format!(
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>secret detail</Message></Error>
  <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
</ErrorResponse>
"#
        ),
    )
}

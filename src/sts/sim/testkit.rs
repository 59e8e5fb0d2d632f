//! Test helpers: requests signed with `aws-sigv4` in both forms, as botocore's
//! presigner and `aws-sdk-sts` make them.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningParams, SigningSettings,
};
use aws_sigv4::sign::v4;
use http::{HeaderMap, HeaderValue};

use super::params::decode_form;
use super::sigv4::Received;

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// A signed request, ready to check or to send.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub(crate) method: &'static str,
    pub(crate) host: String,
    pub(crate) path_and_query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// What to sign.
pub(crate) struct Spec<'a> {
    pub(crate) akid: &'a str,
    pub(crate) secret: &'a str,
    pub(crate) token: Option<&'a str>,
    pub(crate) host: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
    pub(crate) time: SystemTime,
    /// Headers added before signing (so they are signed).
    pub(crate) headers: Vec<(&'a str, &'a str)>,
}

impl<'a> Spec<'a> {
    pub(crate) fn new(akid: &'a str, secret: &'a str, host: &'a str) -> Self {
        Self {
            akid,
            secret,
            token: None,
            host,
            region: "us-east-1",
            service: "sts",
            time: SystemTime::now(),
            headers: Vec::new(),
        }
    }

    fn sign(&self, method: &'static str, pq: &str, body: &[u8], loc: Option<u64>) -> Signed {
        let creds = aws_credential_types::Credentials::new(
            self.akid,
            self.secret,
            self.token.map(str::to_owned),
            None,
            "test",
        );
        let identity = creds.into();
        let mut settings = SigningSettings::default();
        if let Some(expires) = loc {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(expires));
        }
        let params: SigningParams<'_> = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let url = format!("http://{}{pq}", self.host);
        let mut to_sign = self.headers.clone();
        if method == "POST" {
            to_sign.push(("content-type", FORM));
        }
        let signable = SignableRequest::new(
            method,
            url.clone(),
            to_sign.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut req = http::Request::builder().method(method).uri(&url);
        for (k, v) in &to_sign {
            req = req.header(*k, *v);
        }
        let mut req = req.body(()).unwrap();
        instructions.apply_to_request_http1x(&mut req);
        let mut headers = req.headers().clone();
        headers.insert("host", HeaderValue::from_str(self.host).unwrap());
        Signed {
            method,
            host: self.host.to_owned(),
            path_and_query: req.uri().path_and_query().unwrap().to_string(),
            headers,
            body: body.to_vec(),
        }
    }

    /// A presigned `GET /?{query}` (query signing), valid for `expires` seconds.
    pub(crate) fn presign(&self, query: &str, expires: u64) -> Signed {
        self.sign("GET", &format!("/?{query}"), b"", Some(expires))
    }

    /// A header-signed `POST /` with a form body.
    pub(crate) fn post(&self, body: &str) -> Signed {
        self.sign("POST", "/", body.as_bytes(), None)
    }
}

impl Signed {
    /// The path part.
    pub(crate) fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap()
    }

    /// The raw query part.
    pub(crate) fn raw_query(&self) -> &str {
        self.path_and_query.split_once('?').map_or("", |(_, q)| q)
    }

    /// The decoded query.
    pub(crate) fn query(&self) -> Vec<(String, String)> {
        decode_form(self.raw_query()).unwrap()
    }

    /// Runs `f` on the verifier's view of this request.
    pub(crate) fn with_received<R>(&self, f: impl FnOnce(&Received<'_>) -> R) -> R {
        let query = self.query();
        let received = Received {
            service: "sts",
            method: self.method,
            path: self.path(),
            raw_query: self.raw_query(),
            query: &query,
            headers: &self.headers,
            body: &self.body,
        };
        f(&received)
    }

    /// Replaces the value of a raw query parameter (encoded form).
    pub(crate) fn set_query_param(&mut self, name: &str, encoded_value: &str) {
        let (path, query) = self.path_and_query.split_once('?').unwrap();
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k == name => format!("{k}={encoded_value}"),
                _ => pair.to_owned(),
            })
            .collect();
        self.path_and_query = format!("{path}?{}", query.join("&"));
    }

    /// The full URL, for sending with a real client.
    pub(crate) fn url(&self) -> String {
        format!("http://{}{}", self.host, self.path_and_query)
    }
}

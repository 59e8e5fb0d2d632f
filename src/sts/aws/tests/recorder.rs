//! A loopback HTTP server that records every request and answers each with
//! one canned response: the place both clients' requests are compared.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A canned answer.
#[derive(Clone, Debug)]
pub(super) struct Canned {
    pub(super) status: u16,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: String,
}

impl Canned {
    /// An XML answer with a request id header.
    pub(super) fn xml(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "text/xml".into()),
                ("x-amzn-RequestId", "req-0123".into()),
            ],
            body: body.into(),
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) headers: http::HeaderMap,
    pub(super) body: Bytes,
}

impl Seen {
    /// The decoded form parameters, sorted.
    pub(super) fn form(&self) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&self.body).expect("a form body");
        params.sort();
        params
    }
}

/// The running server.
pub(super) struct Recorder {
    pub(super) url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    /// Serves `answer` to every request.
    pub(super) async fn start(answer: Canned) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let (log, answer) = (log.clone(), answer.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (log, answer) = (log.clone(), answer.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            log.lock().unwrap().push(Seen {
                                headers: parts.headers,
                                body,
                            });
                            let mut resp = http::Response::builder().status(answer.status);
                            for (k, v) in &answer.headers {
                                resp = resp.header(*k, v);
                            }
                            Ok::<_, Infallible>(
                                resp.body(Full::new(Bytes::from(answer.body))).unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(sock), service)
                        .await;
                });
            }
        });
        Self { url, seen, task }
    }

    /// Everything received so far, emptied.
    pub(super) fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

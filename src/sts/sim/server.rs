//! The axum glue: one catch-all handler, `serve` on a bound listener with a
//! shutdown future, and `spawn` on loopback returning a [`SimHandle`].
//!
//! Invariants: request bodies are capped at [`MAX_BODY_BYTES`] before anything
//! is parsed; every response carries `x-amzn-RequestId`; a [`SimHandle`] stops
//! its server when dropped.

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::dispatch::{Incoming, Reply};
use super::store::request_id;
use super::xml::{Format, StsFault};
use super::Simulator;

/// Largest request body read. AssumeRole's largest legal form (50 tags, a 2 KiB
/// policy, percent-encoded) stays well below it; anything bigger is refused
/// unread beyond the cap.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// The request id header STS sets on every response.
const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

fn respond(status: StatusCode, body: String, format: Format, rid: &str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(rid) {
        headers.insert(REQUEST_ID_HEADER, v);
    }
    response
}

async fn handle(State(sim): State<Simulator>, req: Request) -> Response {
    let rid = request_id();
    let (parts, body) = req.into_parts();
    let accept = parts.headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::from_accept(accept);
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let fault = StsFault::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "Request body is too large.",
            );
            sim.record_refused(&fault);
            return respond(fault.status, fault.render(&rid, format), format, &rid);
        }
    };
    let incoming = Incoming {
        method: &parts.method,
        path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        format,
    };
    match sim.dispatch(incoming, &rid).await {
        Reply::Doc(doc) => respond(StatusCode::OK, doc, format, &rid),
        // Injected verbatim; tests inject XML.
        Reply::Raw(status, text) => respond(status, text, Format::Xml, &rid),
        Reply::Fault(fault) => respond(fault.status, fault.render(&rid, format), format, &rid),
    }
}

impl Simulator {
    /// Records a request refused before it could be read, like any other.
    fn record_refused(&self, fault: &StsFault) {
        self.record(super::RecordedCall {
            action: None,
            params: Default::default(),
            caller_arn: None,
            status: fault.status.as_u16(),
            error_code: Some(fault.code.to_string()),
            signed_headers: Vec::new(),
        });
    }

    /// The STS endpoint as an axum router (every path and method; only
    /// `GET /` and `POST /` succeed).
    pub fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    /// Serves on an already bound listener until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Binds `127.0.0.1:0` and serves in a background task.
    pub async fn spawn(self) -> std::io::Result<SimHandle> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(self.serve(listener, async move {
            let _ = rx.await;
        }));
        Ok(SimHandle {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running simulator; stops serving when dropped or on [`SimHandle::shutdown`].
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

//! The client side of tvm: minting `tvm-v1` tokens from the caller's own AWS
//! credentials and calling one tvm ([`Server`]); the commands built on it live
//! in the submodules (`tvm token`, `tvm credentials` with its cache, `tvm exec`,
//! `tvm profiles`/`tvm configure`, `tvm console`, the approval commands
//! `tvm request`/`requests`/`approve`/`deny`, `tvm ui`, and DESIGN §13's
//! `tvm sessions`/`revoke`/`revocations`/`audit`).
//!
//! Invariants: the caller's credentials only ever sign locally (they are never
//! sent anywhere); a token is bound to the exact body, method and path sent with
//! it, and to the origin of the URL the user gave (`--url`, or `--audience` for a
//! port-forward) — never to anything the server announces, so a phishing or
//! hostile server cannot obtain a token that works at another tvm; vended
//! credentials are requested over TLS, or plain HTTP to loopback only; every
//! request, retries included, carries a token minted for it alone (tokens are
//! one-time); nothing a server sends is printed, written or used until it
//! passed its rule ([`checked`]: profile names, kinds, request ids, discovery
//! values, vended credentials), and free text it sends is only ever shown
//! through [`visible`] (control, separator and bidi characters escaped).
//!
//! # Layout (each file imports only the ones listed before it)
//!
//! - values and rules: [`visible`] (terminal-safe text), [`wire`] (the JSON
//!   bodies), [`checked`] (what an answer must satisfy), `error`
//!   ([`ClientError`]), `retry`, [`token`] (minting `tvm-v1`);
//! - plumbing: `http` (one TLS request), [`source`] (the caller's own
//!   credentials), [`caller_key`], [`cache`], `server` ([`Server`]: discovery,
//!   signed calls, vend);
//! - commands, each with its argument struct and `run` function: `commands`
//!   (`tvm token`, `tvm credentials` and the arguments every command shares),
//!   [`profiles`], [`console`], [`approvals`], [`ui`], [`exec`], and DESIGN
//!   §13's [`revocation`] (`tvm sessions`, `tvm revoke`, `tvm revocations`)
//!   and [`audit`] (`tvm audit`), with [`ascii_json`] for their JSON output.
//!
//! This file is an index: it declares the modules and re-exports, and holds no
//! code.

pub mod approvals;
pub mod ascii_json;
pub mod audit;
pub mod cache;
pub mod caller_key;
pub mod checked;
mod commands;
pub mod console;
mod error;
pub mod exec;
mod http;
pub mod profiles;
mod retry;
pub mod revocation;
mod server;
pub mod source;
pub mod token;
pub mod ui;
pub mod visible;
pub mod wire;

pub use commands::{
    credentials_command, token_command, CallerArgs, CredentialsArgs, TokenArgs, TvmArgs,
    TVM_URL_ENV,
};
pub use error::ClientError;
pub use http::check_base_url;
pub use retry::RETRY_BUDGET;
pub use server::{Server, ServerArgs};
pub use source::default_credentials;
pub use wire::{Discovery, VendRequest, VendedCredentials};

//! tvm: a self-hosted AWS Token Vending Machine.
//!
//! A caller proves its AWS identity with a presigned `sts:GetCallerIdentity`
//! request (the `tvm-v1` token), tvm checks a policy, and vends short-lived
//! credentials with `sts:AssumeRole`, stamped with a SourceIdentity that names
//! the caller and the request.
//!
//! # Layers
//!
//! Every module sits in one layer and imports only from its own layer or the
//! layers below; no two files import each other, directly or in a circle.
//! `tests/api/architecture.rs` reads this table and fails, naming file and
//! line, when an import breaks the rule.
//!
//! | layer | modules | owns |
//! |---|---|---|
//! | 10 cli | `cli` | parsing the command line and dispatching to the subcommands |
//! | 9 commands | `commands` | the `tvm` subcommands: argument structs and `run` functions, one module each (`serve`, `dev`, `sim`, `policy`, `bench`) and the demo account they share |
//! | 8 wiring | `startup`, `selfcheck` | building the service from a validated config, binding, draining |
//! | 6 http surface | `http`, `ui` | the routers: the JSON API and the approvers' web page |
//! | 5 services | `vend`, `approvals`, `client` | the vend pipeline; requests, grants and break-glass; the client side |
//! | 3 domain | `auth`, `policy`, `sts`, `state`, `reload` | the trust boundary, the policy, STS, shared state, the live policy |
//! | 1 base | `identity`, `config`, `metrics`, `clock`, `telemetry`, `exit` | ARNs and stamps, config types, metrics, time, logs, exit codes |
//!
//! # Layout
//!
//! ```text
//!            ┌──────────── http (axum: router, handlers, ApiError) ───────────┐
//!  POST /vend│  request id ─▶ vend::Vendor::vend                              │
//!            └───────────────────────┬────────────────────────────────────────┘
//!                                    ▼
//!   auth::Verifier ── token parse (pure) ─▶ replay ─▶ IdentityTransport (GCI)
//!        │                                                    │
//!        ▼                                                    ▼
//!   identity (ARN, username, stamps)                 STS (real or sts::sim)
//!        │
//!        ▼
//!   policy::Policy::evaluate (pure) ─▶ sts::Sts::assume_role ─▶ credentials
//! ```
//!
//! - [`config`]: the YAML file and `TVM_*` overrides, validated once at start-up;
//!   [`commands::config_check`]: `tvm serve --check-config`.
//! - [`auth`]: the trust boundary; only it constructs an [`auth::VerifiedCaller`].
//! - [`identity`]: ARN parsing, canonical principal, username, SourceIdentity and
//!   RoleSessionName stamps, request ids.
//! - [`policy`]: profiles and rules, evaluated as a pure function.
//! - [`sts`]: the [`sts::Sts`] trait, the AWS SDK adapter, the STS simulator and
//!   the per-replica cap on concurrent STS calls.
//! - [`state`]: state kept between requests behind small traits: the replay
//!   store and the rate buckets, in memory (one replica) or in Redis (several).
//! - [`approvals`]: approval requests, grants, break-glass records, their
//!   audit trail and webhooks, in a SQLite or Postgres database (DESIGN §12).
//! - [`vend`]: the pipeline that ties the above together for one request.
//! - [`http`]: routers for the API and admin listeners, error mapping.
//! - [`ui`]: the approvers' web page at `/ui/` (sign-in links, sessions, CSRF,
//!   server-rendered pages), calling the same [`approvals`] service as `http`.
//! - [`metrics`], [`telemetry`]: Prometheus registry and log set-up.
//! - [`client`]: the client side: token minting, `credentials`, `exec`, the
//!   approval commands and `tvm ui`.
//! - [`startup`]: wiring for `tvm serve` and `tvm dev` (build, serve, drain);
//!   [`selfcheck`]: the start-up check of tvm's own AWS identity that gates
//!   readiness.
//! - [`cli`]: parses the command line and dispatches; [`commands`]: one module
//!   per subcommand — [`commands::serve`], [`commands::dev`] (the service
//!   with an in-process simulator), [`commands::sim`] (the simulator as its
//!   own process), [`commands::policy`], [`commands::bench`] (vends/s, latency
//!   and tvm's CPU per vend on loopback) — and [`commands::demo`], the demo
//!   account they share; [`exit`]: the exit codes.
//!
//! `auth`, `identity` and `policy` never import axum.

pub mod approvals;
pub mod auth;
pub mod cli;
pub mod client;
pub mod clock;
pub mod commands;
pub mod config;
pub mod exit;
pub mod http;
pub mod identity;
pub mod metrics;
pub mod policy;
pub mod reload;
pub mod selfcheck;
pub mod startup;
pub mod state;
pub mod sts;
pub mod telemetry;
pub mod ui;
pub mod vend;

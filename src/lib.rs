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
//! | 7 router owner | `http` | the API and admin routers, middleware, serving, TLS, connection admission |
//! | 6 routes | `api`, `ui` | the JSON API's handlers and the approvers' web page; siblings that never import each other |
//! | 5 route state | `web` | what every route shares: app state, client address, `ApiError`, readiness, extractors, header names |
//! | 4 services | `vend`, `approvals`, `client`, `ledger`, `audit`, `revocation` | the vend pipeline; requests, grants and break-glass; the client side; what was vended; the audit trail; revocations, blocks and suspensions |
//! | 3 domain | `auth`, `policy`, `sts`, `upstream`, `state`, `reload`, `database` | the trust boundary, the policy, STS, the shared upstream HTTP client, shared state, the live policy, the shared database |
//! | 1 base | `identity`, `net`, `config`, `metrics`, `clock`, `telemetry`, `exit` | ARNs and stamps; regions, STS hosts, origins, URLs; config types; metrics, time, logs; exit codes |
//!
//! # Layout
//!
//! ```text
//!            ┌─ http (router, middleware: request id) ─▶ api::vend (handler) ─┐
//!  POST /vend│  web: AppState, ClientAddr, ApiError ─▶ vend::Vendor::vend     │
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
//! - [`config`]: the YAML file and `TVM_*` overrides, validated once at start-up,
//!   and the settings types the domain modules are built from (the verifier's
//!   settings, the STS call cap and deadlines, Redis, approvals and webhooks);
//!   [`commands::config_check`]: `tvm serve --check-config`.
//! - [`auth`]: the trust boundary; only it constructs an [`auth::VerifiedCaller`].
//! - [`identity`]: ARN parsing, canonical principal, username, SourceIdentity and
//!   RoleSessionName stamps, request ids.
//! - [`net`]: the validated AWS and HTTP names as plain values: regions and
//!   their STS hosts, configured endpoints, origins, the strict URL grammar.
//! - [`policy`]: profiles and rules, evaluated as a pure function.
//! - [`sts`]: the [`sts::Sts`] trait, tvm's SigV4 STS client, the STS simulator and
//!   the per-replica cap on concurrent STS calls.
//! - [`upstream`]: the HTTP client and strict XML reader shared by the
//!   verifier's and tvm's own STS calls.
//! - [`state`]: state kept between requests behind small traits: the replay
//!   store and the rate buckets, in memory (one replica) or in Redis (several).
//! - [`database`]: the SQLite or Postgres pool, its owner-only file and the
//!   versioned migrations, shared by every service that stores rows.
//! - [`approvals`]: approval requests, grants, break-glass records and
//!   webhooks (DESIGN §12).
//! - [`audit`]: the append-only audit trail every state change writes in its
//!   own transaction (DESIGN §13's `audit_events` and `GET /audit` go here).
//! - [`ledger`]: what was vended — today the vends under a grant (DESIGN
//!   §13's ledger of every vend and `GET /sessions` go here).
//! - [`revocation`]: DESIGN §13's revocations (session, grant, leaked caller
//!   key, person), lifts, and the in-memory block set every authenticated
//!   route checks right after the caller's GetCallerIdentity, kept in step
//!   across replicas by polling `revocation_state.version`.
//! - [`vend`]: the pipeline that ties the above together for one request.
//! - [`http`]: the router owner: the API and admin routers, the request
//!   middleware, serving (connection slots, timeouts) and TLS.
//! - [`api`]: the JSON handlers (`/vend`, `/profiles`, `/.well-known/tvm`,
//!   `/requests…`).
//! - [`ui`]: the approvers' web page at `/ui/` (sign-in links, sessions, CSRF,
//!   server-rendered pages), calling the same [`approvals`] service as `api`.
//! - [`web`]: what `api` and `ui` share: [`web::AppState`], the client
//!   address, [`web::ApiError`] and its wire format, readiness, the
//!   per-address rate limits, extractors, body reading and header names.
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
//! Where DESIGN §13 (sessions, revocation, audit) lands: the ledger of every
//! vend in [`ledger`], `audit_events` in [`audit`], both on [`database`];
//! revocations and blocks in a `revocation` module of layer 4 beside them,
//! which [`vend`] and every authenticated route consult; their JSON routes
//! in [`api`] and their pages in [`ui`] — never inside `approvals` or `vend`.
//!
//! `auth`, `identity` and `policy` never import axum.

pub mod api;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod client;
pub mod clock;
pub mod commands;
pub mod config;
pub mod database;
pub mod exit;
pub mod http;
pub mod identity;
pub mod ledger;
pub mod metrics;
pub mod net;
pub mod policy;
pub mod reload;
pub mod revocation;
pub mod selfcheck;
pub mod startup;
pub mod state;
pub mod sts;
pub mod telemetry;
pub mod ui;
pub mod upstream;
pub mod vend;
pub mod web;

//! The config file as written (DESIGN §5): [`Config`] and the sections that
//! have no validation file of their own (`listen`, `admin`, `auth`, `stamp`,
//! `policy`). `sts`, `server`, `state`, `database` and `webhooks` are declared
//! next to their validation, in `sts.rs`, `limits.rs`, `state.rs` and
//! `database.rs`.
//!
//! Invariants: every struct denies unknown fields, and defaults here are the
//! documented ones of `config/tvm.yaml`; nothing here is trusted before
//! `validate` has checked it.

use std::net::SocketAddr;
use std::path::PathBuf;

use jiff::SignedDuration;
use serde::Deserialize;
use serde_yaml_ng::Value;

use super::{DatabaseConfig, HumanDuration, ServerConfig, StateConfig, StsConfig, WebhookSettings};

/// The file, as written. See `config/tvm.yaml` for the documented example.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The API listener.
    #[serde(default)]
    pub listen: ListenConfig,
    /// The admin listener (probes and metrics).
    #[serde(default)]
    pub admin: AdminConfig,
    /// Caller verification.
    pub auth: AuthConfig,
    /// The STS used to vend.
    #[serde(default)]
    pub sts: StsConfig,
    /// SourceIdentity stamp.
    #[serde(default)]
    pub stamp: StampConfig,
    /// The policy file.
    pub policy: PolicyConfig,
    /// HTTP server limits.
    #[serde(default)]
    pub server: ServerConfig,
    /// Shared state (replay cache, rate limits).
    #[serde(default)]
    pub state: StateConfig,
    /// The database (DESIGN §13): turns on approvals and break-glass (§12);
    /// absent = neither is available (their routes answer 501), and a policy
    /// using them is refused.
    #[serde(default)]
    pub database: Option<DatabaseConfig>,
    /// Notifications (DESIGN §12); they need `database`.
    #[serde(default)]
    pub webhooks: Vec<WebhookSettings>,
    /// Revocation (DESIGN §13): polling of the blocks.
    #[serde(default)]
    pub revocation: super::RevocationConfig,
}

/// `listen`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenConfig {
    /// Address of the API listener.
    pub addr: SocketAddr,
    /// HTTPS on the API listener; `null` = plain HTTP (behind a TLS-terminating
    /// proxy or for loopback).
    pub tls: Option<TlsConfig>,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            tls: None,
        }
    }
}

/// `listen.tls`: PEM files, reloaded when they change (cert-manager rotates them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

/// `admin`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin listener.
    pub addr: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([0, 0, 0, 0], 9090)),
        }
    }
}

/// `auth`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The origins clients reach tvm by (`https://tvm.example.com`); a token
    /// must be signed for one of them. One string or a list.
    pub audience: OneOrMany,
    /// Allowed difference between X-Amz-Date and now.
    #[serde(default = "default_skew")]
    pub max_clock_skew: HumanDuration,
    /// When set, `k8s-aws-v1.` tokens made for this cluster id are accepted
    /// (plain vends and `GET /profiles` only).
    #[serde(default)]
    pub eks_cluster_id: Option<String>,
    /// Removed: replaced by `eks_cluster_id`. Kept only so that a config that
    /// still sets it gets an error saying what to write instead.
    #[serde(default)]
    pub accept_eks_tokens: Option<Value>,
    /// Where GetCallerIdentity goes; default `sts.endpoint_url`, else real AWS.
    #[serde(default)]
    pub sts_endpoint_url: Option<String>,
}

/// A YAML value that may be one string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// `audience: https://tvm.example.com`
    One(String),
    /// `audience: [https://tvm.example.com, https://tvm.internal.example.com]`
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, in order.
    pub fn values(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

fn default_skew() -> HumanDuration {
    HumanDuration(SignedDuration::from_mins(5))
}

/// `stamp`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StampConfig {
    /// First field of the SourceIdentity.
    pub prefix: String,
}

impl Default for StampConfig {
    fn default() -> Self {
        Self {
            prefix: "tvm".into(),
        }
    }
}

/// `policy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// The policy file; relative paths are relative to the working directory.
    pub file: PathBuf,
    /// How often the file is checked for changes (SIGHUP reloads at once).
    #[serde(default = "default_poll_interval")]
    pub poll_interval: HumanDuration,
}

fn default_poll_interval() -> HumanDuration {
    HumanDuration(SignedDuration::from_secs(2))
}

#![allow(unreachable_pub)] // a test binary has no public API; `pub` here means "shared between test modules".
//! The integration tests: tvm and the STS simulator on real loopback sockets.
//! One test per way a request can be rejected, each asserting the status, the
//! error `Code`, and whether STS was called.

mod answers;
mod approvals;
mod approvals_cli;
mod approvals_webhooks;
mod architecture;
mod bench;
mod chaos;
mod cli;
mod cli_approvals;
mod client_boto3;
mod client_cache;
mod client_dev;
mod client_env;
mod client_exec;
mod client_exec_isolation;
mod client_exec_signals;
mod client_hostile;
mod client_profiles;
mod client_retry;
mod client_sources;
mod config_check;
mod fleet;
mod hostile;
mod ledger;
mod limits;
mod moto;
mod not_configured;
mod ops;
mod origins;
mod postgres;
mod redis_config;
mod refusal_logs;
mod rejections;
mod reload;
mod replicas;
mod revocation;
mod revocation_pg;
mod revocation_webhooks;
mod startup;
mod support;
mod thirdparty;
mod throttle;
mod ui;
mod ui_browser;
mod ui_revocation;
mod ui_revocation_browser;
mod ui_scope;
mod upstream;
mod vending;

//! `tvm serve`: its flags, and the choice between running the service
//! ([`crate::startup::serve`]) and only checking its files
//! (`--check-config`, [`super::config_check`]).
//!
//! Invariant: `--check-config` sets up no logging and binds, serves and
//! connects to nothing; the service sets up logging before it reads the config
//! file, so the file it reads is logged.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::exit::EXIT_INTERNAL;
use crate::telemetry::LogFormat;

/// `tvm serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The YAML config file [default: $TVM_CONFIG, else /etc/tvm/tvm.yaml].
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Log line format.
    #[arg(long, value_enum, default_value = "json")]
    pub log_format: LogFormat,
    /// Check the config (with its TVM_* overrides), the TLS, Redis and webhook
    /// files it names, and the policy, then exit: 0 when `tvm serve` would start,
    /// 64 with its message otherwise. Binds, serves and connects to nothing.
    #[arg(long)]
    pub check_config: bool,
}

/// `tvm serve [--config F] [--check-config]`.
pub async fn run(args: ServeArgs) -> ExitCode {
    if args.check_config {
        return super::config_check::run(args.config.as_deref()).await;
    }
    if let Err(e) = crate::telemetry::init(args.log_format, std::io::stdout) {
        eprintln!("tvm: cannot set up logging: {e}");
        return ExitCode::from(EXIT_INTERNAL);
    }
    crate::startup::serve(args.config.as_deref()).await
}

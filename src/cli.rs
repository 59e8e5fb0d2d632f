//! The command line (DESIGN §9): argument definitions and dispatch to the
//! library. `main.rs` only parses and calls [`run`].
//!
//! Exit codes: 0 success, 1 failure, 64 invalid configuration or usage
//! (`EX_USAGE`, as linkerd2-proxy and sysexits do), 70 internal error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

/// Exit code for an invalid configuration or policy file.
pub const EXIT_CONFIG: u8 = 64;

/// tvm: a self-hosted AWS Token Vending Machine.
#[derive(Debug, Parser)]
#[command(name = "tvm", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Run the service with an in-process STS simulator and a demo policy on loopback.
    Dev(DevArgs),
    /// Print a tvm-v1 token made from your AWS credentials (for curl and scripts).
    Token(crate::client::TokenArgs),
    /// Print `credential_process` JSON with credentials vended by tvm.
    Credentials(crate::client::CredentialsArgs),
    /// Run a command with a loopback container-credentials endpoint that vends from tvm.
    Exec(crate::client::exec::ExecArgs),
    /// List the profiles you may request.
    Profiles(crate::client::TvmArgs),
    /// Print ~/.aws/config stanzas (credential_process) for the profiles you may request.
    Configure(crate::client::profiles::ConfigureArgs),
    /// Open the AWS console with credentials vended by tvm.
    Console(crate::client::console::ConsoleArgs),
    /// Ask for a profile that needs an approval (optionally wait for it).
    Request(crate::client::approvals::RequestArgs),
    /// List the pending requests you may approve, and your own.
    Requests(crate::client::approvals::RequestsArgs),
    /// Approve a pending request.
    Approve(crate::client::approvals::DecideArgs),
    /// Deny a pending request.
    Deny(crate::client::approvals::DecideArgs),
    /// Sign in to the approvers' web page (prints and opens a one-time link).
    Ui(crate::client::ui::UiArgs),
    /// Validate a policy file or explain a decision.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run the STS simulator on its own (local testing; tvm bench's upstream).
    Sim(crate::sim_cli::SimArgs),
    /// Measure vends/s, latency and tvm's CPU and memory per vend on loopback.
    Bench(crate::bench::BenchArgs),
    /// The zero-cost STS responder `tvm bench` starts (checks nothing; loopback only).
    #[command(hide = true)]
    BenchUpstream {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
}

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

/// `tvm dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// API port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Admin port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 9090)]
    pub admin_port: u16,
    /// Skip the vend tvm dev performs itself after start-up.
    #[arg(long)]
    pub no_self_test: bool,
    /// Exit after the self-test instead of serving (for scripts and CI).
    #[arg(long, hide = true)]
    pub exit_after_self_test: bool,
    /// Log line format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// `tvm policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file and print a summary.
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Explain the decision for a principal and profile.
    Eval(crate::policy_cli::EvalArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let credential_process = match &cli.command {
        Command::Credentials(_) => true,
        Command::Request(a) => a.print_credentials,
        _ => false,
    };
    if credential_process {
        // Before any thread exists: it sets a variable the AWS chain's children inherit.
        if let Err(e) = crate::client::source::enter_credential_process() {
            eprintln!("tvm credentials: {e}");
            return ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tvm: cannot start the async runtime: {e}");
            return ExitCode::from(70);
        }
    };
    match cli.command {
        Command::Serve(args) if args.check_config => {
            runtime.block_on(crate::config_check::run(&args))
        }
        Command::Serve(args) => runtime.block_on(crate::startup::serve_command(args)),
        Command::Dev(args) => runtime.block_on(crate::dev::run(args)),
        Command::Token(args) => runtime.block_on(crate::client::token_command(args)),
        Command::Credentials(args) => runtime.block_on(crate::client::credentials_command(args)),
        Command::Exec(args) => runtime.block_on(crate::client::exec::exec_command(args)),
        Command::Profiles(args) => {
            runtime.block_on(crate::client::profiles::profiles_command(args))
        }
        Command::Configure(args) => {
            runtime.block_on(crate::client::profiles::configure_command(args))
        }
        Command::Console(args) => runtime.block_on(crate::client::console::console_command(args)),
        Command::Request(args) => runtime.block_on(crate::client::approvals::request_command(args)),
        Command::Requests(args) => {
            runtime.block_on(crate::client::approvals::requests_command(args))
        }
        Command::Approve(args) => runtime.block_on(crate::client::approvals::decide_command(
            args,
            crate::client::approvals::Decision::Approve,
        )),
        Command::Deny(args) => runtime.block_on(crate::client::approvals::decide_command(
            args,
            crate::client::approvals::Decision::Deny,
        )),
        Command::Ui(args) => runtime.block_on(crate::client::ui::ui_command(args)),
        Command::Policy(PolicyCommand::Check { file }) => crate::policy_cli::check(&file),
        Command::Policy(PolicyCommand::Eval(args)) => crate::policy_cli::eval(&args),
        Command::Sim(args) => runtime.block_on(crate::sim_cli::run(args)),
        Command::Bench(args) => runtime.block_on(crate::bench::run(args)),
        Command::BenchUpstream { listen } => runtime.block_on(crate::bench::zero::run(listen)),
    }
}

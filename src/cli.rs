//! The command line (DESIGN §9): the list of subcommands, parsed with clap,
//! and the dispatch to each one's `run` — in [`crate::commands`] for the
//! service and its tools, in [`crate::client`] for the client commands.
//! `main.rs` only parses and calls [`run`]. Nothing but parsing and dispatch
//! lives here: each subcommand's flags are its own module's.
//!
//! Exit codes ([`crate::exit`]): 0 success, 1 failure, 64 invalid configuration
//! or usage (`EX_USAGE`, as linkerd2-proxy and sysexits do), 70 internal error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{bench, dev, policy, serve, sim};
use crate::exit::EXIT_INTERNAL;

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
    Serve(serve::ServeArgs),
    /// Run the service with an in-process STS simulator and a demo policy on loopback.
    Dev(dev::DevArgs),
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
    /// List the sessions tvm vended: yours, or (admins) everyone's.
    Sessions(crate::client::revocation::SessionsArgs),
    /// End a session, a grant, a leaked caller key's sessions, or a person's access.
    Revoke(crate::client::revocation::RevokeArgs),
    /// List or show revocations, check them in IAM, or lift one.
    Revocations(crate::client::revocation::RevocationsArgs),
    /// Export the audit trail as JSON lines or CSV.
    Audit(crate::client::audit::AuditArgs),
    /// Sign in to the approvers' and admins' web page (prints and opens a one-time link).
    Ui(crate::client::ui::UiArgs),
    /// Validate a policy file or explain a decision.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Run the STS simulator on its own (local testing; tvm bench's upstream).
    Sim(sim::SimArgs),
    /// Measure vends/s, latency and tvm's CPU and memory per vend on loopback.
    Bench(bench::BenchArgs),
    /// The zero-cost STS responder `tvm bench` starts (checks nothing; loopback only).
    #[command(hide = true)]
    BenchUpstream(bench::zero::UpstreamArgs),
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
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve::run(args)),
        Command::Dev(args) => runtime.block_on(dev::run(args)),
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
        Command::Sessions(args) => {
            runtime.block_on(crate::client::revocation::sessions_command(args))
        }
        Command::Revoke(args) => runtime.block_on(crate::client::revocation::revoke_command(args)),
        Command::Revocations(args) => match args.offline_lift() {
            Some((config, id, reason)) => {
                runtime.block_on(crate::commands::revocations::lift(Some(config), id, reason))
            }
            None => runtime.block_on(crate::client::revocation::revocations_command(args)),
        },
        Command::Audit(args) => runtime.block_on(crate::client::audit::audit_command(args)),
        Command::Policy(command) => policy::run(&command),
        Command::Sim(args) => runtime.block_on(sim::run(args)),
        Command::Bench(args) => runtime.block_on(bench::run(args)),
        Command::BenchUpstream(args) => runtime.block_on(bench::zero::run(args.listen)),
    }
}

//! `tvm exec --url U --profile P -- CMD ARGS`: runs CMD as the vended role,
//! whatever the caller's own AWS files and environment hold.
//!
//! ```text
//!  caller's chain ─▶ vend once (a denial fails here, before CMD runs)
//!        │
//!        ├─▶ endpoint: 127.0.0.1:random, token-protected, re-vends near expiry
//!        ├─▶ env + profile: CMD's environment scrubbed, its AWS files replaced
//!        │   by a private [default] with the caller profile's settings only
//!        └─▶ signals: CMD in tvm's process group; SIGINT/SIGQUIT not forwarded,
//!            SIGTERM/SIGHUP forwarded; tvm exits with CMD's status
//! ```
//!
//! - [`endpoint`]: the loopback container-credentials endpoint every SDK and
//!   the AWS CLI in CMD fetch (and refresh) credentials from.
//! - [`env`]: CMD's environment and its private AWS files, so that no SDK's
//!   chain finds anything before the endpoint.
//! - [`profile`] (with [`ini`], the files read as botocore reads them): the
//!   settings copied from the caller's profile, an allow-list, checked values.
//! - [`signals`]: waiting for CMD, which signals reach it and how often.
//!
//! With `--revoke-on-exit`, every session the endpoint vended (the first and
//! each refresh) is revoked at tvm once CMD ends (`POST /sessions/{id}/revoke`);
//! a failed revoke is reported and makes the exit non-zero.
//!
//! Invariants: CMD starts only after a successful vend and with its private
//! files in place; those files are removed once it exits; credentials are
//! never printed or logged; `tvm exec` never reads or writes the credentials
//! cache, so what it revokes was never served to anything but CMD.

pub mod endpoint;
pub mod env;
mod error;
pub mod ini;
pub mod profile;
pub mod signals;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Args;

pub use env::SCRUBBED;
pub use error::ExecError;

use super::commands::TvmArgs;
use super::source;

/// `tvm exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// What to vend.
    #[command(flatten)]
    pub vend: super::commands::VendArgs,
    /// When the command ends, revoke every session it was given ("I'm
    /// done"); a failed revoke is an error and a non-zero exit. Sessions are
    /// always vended fresh for `tvm exec`, never taken from the cache.
    #[arg(long)]
    pub revoke_on_exit: bool,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<OsString>,
}

/// Runs `tvm exec`; the exit code is the child's.
pub async fn exec_command(args: ExecArgs) -> ExitCode {
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tvm exec: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: ExecArgs) -> Result<ExitCode, ExecError> {
    let server = args.tvm.connect().await?;
    let config = source::load_config(args.tvm.caller.profile()).await;
    let caller = source::provider_of(&config)?;
    // Checked before vending: a profile that cannot be copied stops here.
    let child_profile = env::caller_profile(args.tvm.caller.profile())?;
    let request = args.vend.request();
    // Vend once before starting the child: a denial fails here, not inside CMD.
    let first = server
        .vend_with(&source::load(&caller).await?, &request)
        .await?;
    let endpoint = endpoint::start(server.clone(), caller.clone(), request, first).await?;
    let files = env::ChildFiles::create(&child_profile).map_err(ExecError::ChildFiles)?;

    let program = args.command[0].to_string_lossy().into_owned();
    let mut cmd = tokio::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..]);
    files.apply(
        &mut cmd,
        &endpoint.uri,
        &endpoint.token,
        config.region().map(|r| r.as_ref()),
    );
    let signals = signals::Signals::install().map_err(ExecError::Signals)?;
    let mut child = cmd
        .spawn()
        .map_err(|e| ExecError::Spawn(program.clone(), e))?;
    let status = signals
        .wait(&mut child)
        .await
        .map_err(|e| ExecError::Spawn(program, e))?;
    let vended = endpoint.vended();
    drop(endpoint);
    drop(files);
    let code = signals::exit_code(status);
    if args.revoke_on_exit {
        let creds = source::load(&caller).await?;
        if let Err(e) = revoke_all(&server, &creds, &vended).await {
            eprintln!("tvm exec: --revoke-on-exit: {e}");
            // The command's own failure wins; else the revoke's.
            return Ok(if status.success() {
                ExitCode::FAILURE
            } else {
                code
            });
        }
    }
    Ok(code)
}

/// Revokes every session in `ids` (the command's), each with its own call.
async fn revoke_all(
    server: &super::Server,
    creds: &aws_credential_types::Credentials,
    ids: &[String],
) -> Result<(), ExecError> {
    let mut failed = None;
    for id in ids {
        if let Err(e) = server
            .revoke_session(creds, id, REVOKE_ON_EXIT_REASON)
            .await
        {
            failed = Some(e);
        }
    }
    failed.map_or(Ok(()), |e| Err(e.into()))
}

/// The reason recorded for `--revoke-on-exit`.
const REVOKE_ON_EXIT_REASON: &str = "tvm exec --revoke-on-exit: the command ended";

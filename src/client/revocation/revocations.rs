//! `tvm revocations [ID] [--check] [--status S]` and
//! `tvm revocations lift ID --reason TEXT`.
//!
//! The offline lift (`tvm revocations lift --config F ID`, working on the
//! database directly for when no admin is left) shares this subcommand:
//! [`LiftArgs`] keeps `--url` optional ([`MaybeTvmArgs`]) so that form can
//! be added beside it.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::show::{check_text, revocation_table, revocation_text};
use crate::client::commands::{CallerArgs, TvmArgs, AUDIENCE_HELP, TVM_URL_ENV};
use crate::client::error::ClientError;
use crate::exit::EXIT_CONFIG;

/// `tvm revocations`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RevocationsArgs {
    /// `lift`.
    #[command(subcommand)]
    pub action: Option<RevocationsAction>,
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: MaybeTvmArgs,
    /// One revocation to show (16 hex); without it, the list.
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Read the roles' policies back from IAM: in_sync, missing or differs (admins).
    #[arg(long, requires = "id")]
    pub check: bool,
    /// Which to list: active, lifted or all.
    #[arg(long, default_value = "active", value_parser = ["active", "lifted", "all"])]
    pub status: String,
}

/// `tvm revocations lift`.
#[derive(Debug, Subcommand)]
pub enum RevocationsAction {
    /// End a suspension or a key block (admins).
    Lift(LiftArgs),
}

/// `tvm revocations lift ID --reason TEXT`.
#[derive(Debug, Args)]
pub struct LiftArgs {
    /// The revocation (16 hex).
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why (kept in the audit trail).
    #[arg(long)]
    pub reason: String,
    /// Lift on the database of this tvm config directly, without a server
    /// or an admin: the recovery when no admin is left. Excludes --url.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["url", "audience"])]
    pub config: Option<std::path::PathBuf>,
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: MaybeTvmArgs,
}

impl RevocationsArgs {
    /// The offline lift's `(config, id, reason)`, when this run is one
    /// (`tvm revocations lift --config F ID --reason T`): it runs on the
    /// database, not through a server.
    pub fn offline_lift(&self) -> Option<(&std::path::Path, &str, &str)> {
        match &self.action {
            Some(RevocationsAction::Lift(l)) => l
                .config
                .as_deref()
                .map(|c| (c, l.id.as_str(), l.reason.as_str())),
            None => None,
        }
    }
}

/// [`TvmArgs`] with `--url` optional, so a form that needs no server
/// (the offline lift's `--config F`) can sit beside it.
#[derive(Debug, Clone, Args)]
pub struct MaybeTvmArgs {
    /// The tvm base URL, e.g. https://tvm.example.com (tokens are signed for
    /// its origin). Default: the TVM_URL environment variable.
    #[arg(long, env = TVM_URL_ENV)]
    pub url: Option<String>,
    /// The public origin, when `--url` is not it (the help text says more).
    #[arg(long, help = AUDIENCE_HELP)]
    pub audience: Option<String>,
    /// Where your own AWS credentials come from.
    #[command(flatten)]
    pub caller: CallerArgs,
}

impl MaybeTvmArgs {
    /// The server arguments, once `--url` (or TVM_URL) is known.
    fn require(&self) -> Result<TvmArgs, Outcome> {
        let Some(url) = self.url.clone() else {
            return Err(Usage("--url (or TVM_URL) is required".into()));
        };
        Ok(TvmArgs {
            url,
            audience: self.audience.clone(),
            caller: self.caller.clone(),
        })
    }
}

/// Runs `tvm revocations`.
pub async fn revocations_command(args: RevocationsArgs) -> ExitCode {
    let result = match args.action {
        Some(RevocationsAction::Lift(lift)) => lift_run(lift).await,
        None => list_run(&args).await,
    };
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(Usage(m)) => {
            eprintln!("tvm revocations: {m}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(Failed(e)) => {
            eprintln!("tvm revocations: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How a run ends badly.
enum Outcome {
    /// Exit 64.
    Usage(String),
    /// Exit 1.
    Failed(ClientError),
}
use Outcome::{Failed, Usage};

impl From<ClientError> for Outcome {
    fn from(e: ClientError) -> Self {
        Failed(e)
    }
}

async fn list_run(args: &RevocationsArgs) -> Result<String, Outcome> {
    let tvm = args.tvm.require()?;
    let server = tvm.connect().await?;
    let creds = tvm.credentials().await?;
    match (&args.id, args.check) {
        (Some(id), true) => Ok(check_text(&server.check_revocation(&creds, id).await?)),
        (Some(id), false) => Ok(revocation_text(
            &server.revocation(&creds, id).await?,
            false,
        )),
        (None, _) => Ok(revocation_table(
            &server.revocations(&creds, &args.status).await?,
        )),
    }
}

async fn lift_run(args: LiftArgs) -> Result<String, Outcome> {
    if args.reason.trim().is_empty() || args.reason.chars().count() > 1000 {
        return Err(Usage("--reason must be 1 to 1,000 characters".into()));
    }
    let tvm = args.tvm.require()?;
    let server = tvm.connect().await?;
    let creds = tvm.credentials().await?;
    let lifted = server
        .lift_revocation(&creds, &args.id, &args.reason)
        .await?;
    Ok(revocation_text(&lifted, false))
}

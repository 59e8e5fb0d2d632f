//! `tvm sessions [--all] [--user NAME] [--json]`: the sessions tvm vended —
//! one's own, or (admins) everyone's or one user's.

use std::process::ExitCode;

use clap::Args;

use super::show::session_table;
use super::wire::SessionList;
use crate::client::ascii_json;
use crate::client::commands::TvmArgs;
use crate::client::error::ClientError;

/// `tvm sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Which tvm, and whose credentials sign.
    #[command(flatten)]
    pub tvm: TvmArgs,
    /// Everyone's sessions (admins).
    #[arg(long, conflicts_with = "user")]
    pub all: bool,
    /// One user's sessions (admins).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Print `{"Sessions": [...]}` as one line of JSON (non-ASCII escaped).
    #[arg(long)]
    pub json: bool,
}

/// Runs `tvm sessions`.
pub async fn sessions_command(args: SessionsArgs) -> ExitCode {
    match run(&args).await {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvm sessions: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &SessionsArgs) -> Result<String, ClientError> {
    let server = args.tvm.connect().await?;
    let creds = args.tvm.credentials().await?;
    let sessions = server
        .sessions(&creds, args.all, args.user.as_deref())
        .await?;
    if args.json {
        let line = ascii_json::to_line(&SessionList { sessions })
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok(format!("{line}\n"))
    } else {
        Ok(session_table(&sessions))
    }
}

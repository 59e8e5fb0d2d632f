//! `tvm sim`: the STS simulator ([`crate::sts::sim`]) as its own process, for
//! local testing against a real socket and as the upstream of `tvm bench`.
//!
//! Owns: what it serves of the demo account ([`crate::commands::demo`]: a
//! caller, tvm's own identity and two roles that trust only tvm's identity, as
//! `tvm dev` sets up in-process), the keys file format ([`SimKeys`]), and the
//! optional per-response delay that stands in for the round trip to real STS.
//!
//! Invariants: the keys work nowhere but this simulator; a keys file is written
//! with mode 0600; the first line on stdout is always
//! `tvm sim: listening on http://ADDR` (scripts and `tvm bench` read it).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::clock::SystemClock;
use crate::commands::demo::{
    self, random_secret, service_access_key_id, DEMO_ACCESS_KEY_ID, DEMO_ACCOUNT,
    DEMO_SECRET_ACCESS_KEY, DEMO_SERVICE_ARN, DEMO_USER_ARN,
};
use crate::sts::sim::{Fault, SimRole, Simulator, ANY_ACTION};

/// tvm's own identity in the simulator (the principal the roles trust).
pub const SIM_SERVICE_ARN: &str = DEMO_SERVICE_ARN;

/// The roles the simulator knows; each trusts [`SIM_SERVICE_ARN`] only.
pub const SIM_ROLES: [&str; 2] = [
    "arn:aws:iam::111122223333:role/TvmDemoReadOnly",
    "arn:aws:iam::111122223333:role/TvmDemoAdmin",
];

/// Longest `--delay` accepted: beyond it the response would outlive tvm's own
/// STS timeouts and only test those.
pub const MAX_DELAY: Duration = Duration::from_secs(10);

/// `tvm sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:8091")]
    pub listen: SocketAddr,
    /// Wait this long before every response, like the round trip to real STS (e.g. 10ms).
    #[arg(long, value_parser = parse_delay)]
    pub delay: Option<Duration>,
    /// Use the keys in this JSON file (as written by --write-keys) instead of the demo keys.
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Write the keys in use to this file (JSON, mode 0600).
    #[arg(long)]
    pub write_keys: Option<PathBuf>,
}

/// Parses a duration like `10ms`, `0.5s`, `1s` (at most [`MAX_DELAY`]).
pub fn parse_delay(s: &str) -> Result<Duration, String> {
    let d = s
        .parse::<jiff::SignedDuration>()
        .map_err(|_| format!("`{s}` is not a duration like 10ms or 1s"))?;
    let d = Duration::try_from(d).map_err(|_| "the delay must not be negative".to_owned())?;
    if d > MAX_DELAY {
        return Err(format!(
            "the delay must be at most {}s",
            MAX_DELAY.as_secs()
        ));
    }
    Ok(d)
}

/// One long-term key of the simulator.
#[derive(Clone, Serialize, Deserialize)]
pub struct SimKey {
    /// The IAM user the key belongs to.
    pub arn: String,
    /// `AKIA...`.
    pub access_key_id: String,
    /// The secret (valid only in this simulator).
    pub secret_access_key: String,
}

impl std::fmt::Debug for SimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimKey")
            .field("arn", &self.arn)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The keys file: the caller's key and tvm's own key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimKeys {
    /// The demo caller (allowed by a policy like `tvm dev`'s).
    pub caller: SimKey,
    /// tvm's own identity (the one the roles trust; give it to `tvm serve`).
    pub service: SimKey,
}

impl SimKeys {
    /// The demo caller's fixed keys and a fresh random key for tvm's identity.
    pub fn demo() -> Self {
        Self {
            caller: SimKey {
                arn: DEMO_USER_ARN.into(),
                access_key_id: DEMO_ACCESS_KEY_ID.into(),
                secret_access_key: DEMO_SECRET_ACCESS_KEY.into(),
            },
            service: SimKey {
                arn: SIM_SERVICE_ARN.into(),
                access_key_id: service_access_key_id(),
                secret_access_key: random_secret(),
            },
        }
    }

    /// Reads a keys file.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("invalid keys file {}: {e}", path.display()))
    }

    /// Writes a keys file with mode 0600.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        use std::os::unix::fs::OpenOptionsExt;
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// A simulator holding `keys`, the demo roles and the optional delay.
pub fn simulator(keys: &SimKeys, delay: Option<Duration>) -> Result<Simulator, String> {
    let sim = Simulator::new(Arc::new(SystemClock));
    for key in [&keys.caller, &keys.service] {
        sim.add_user(&key.arn, &key.access_key_id, &key.secret_access_key)
            .map_err(|e| format!("key for {}: {e}", key.arn))?;
    }
    for role in SIM_ROLES {
        sim.add_role(SimRole::new(role, vec![keys.service.arn.clone()]))
            .map_err(|e| e.to_string())?;
    }
    sim.add_role(demo::revoker_role(&keys.service.arn))
        .map_err(|e| e.to_string())?;
    if let Some(d) = delay {
        sim.set_fault(ANY_ACTION, Some(Fault::Delay(d)));
    }
    Ok(sim)
}

/// `tvm sim`.
pub async fn run(args: SimArgs) -> ExitCode {
    match run_inner(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tvm sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_inner(args: SimArgs) -> Result<(), String> {
    let keys = match &args.keys {
        Some(path) => SimKeys::read(path)?,
        None => SimKeys::demo(),
    };
    let sim = simulator(&keys, args.delay)?;
    if let Some(path) = &args.write_keys {
        keys.write(path)?;
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    print_banner(addr, &keys, args.delay);
    sim.serve(listener, crate::startup::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

fn print_banner(addr: SocketAddr, keys: &SimKeys, delay: Option<Duration>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "tvm sim: listening on http://{addr}");
    let _ = writeln!(
        out,
        "Account {DEMO_ACCOUNT}; roles {} trust only tvm's identity.",
        SIM_ROLES.join(", ")
    );
    let _ = writeln!(
        out,
        "Revoker role {}: tvm's identity may assume it to write inline Deny policies \
         (IAM PutRolePolicy/GetRolePolicy/DeleteRolePolicy at this same URL, signed for iam).",
        demo::DEMO_REVOKER_ROLE_ARN
    );
    if let Some(d) = delay {
        let _ = writeln!(out, "Every response waits {} ms.", d.as_millis());
    }
    let _ = writeln!(
        out,
        "Keys (valid only in this simulator):\n  caller {}:\n    AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}\n  tvm service {}:\n    AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
        keys.caller.arn,
        keys.caller.access_key_id,
        keys.caller.secret_access_key,
        keys.service.arn,
        keys.service.access_key_id,
        keys.service.secret_access_key,
    );
    let _ = writeln!(
        out,
        "Point tvm at it: sts.endpoint_url: http://{addr} (and run tvm serve with the service key).\nServing until Ctrl-C."
    );
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_parses_and_is_bounded() {
        assert_eq!(parse_delay("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_delay("1s"), Ok(Duration::from_secs(1)));
        assert!(parse_delay("11s").is_err());
        assert!(parse_delay("-1s").is_err());
        assert!(parse_delay("soon").is_err());
    }

    #[test]
    fn keys_file_round_trips_and_debug_hides_secrets() {
        let keys = SimKeys::demo();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        keys.write(&path).unwrap();
        let back = SimKeys::read(&path).unwrap();
        assert_eq!(
            back.service.secret_access_key,
            keys.service.secret_access_key
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!format!("{keys:?}").contains(&keys.service.secret_access_key));
        simulator(&back, Some(Duration::from_millis(1))).unwrap();
    }

    /// The demo account's revoker role: tvm's identity assumes it with an
    /// `rvk-` SourceIdentity and writes another role's inline policy; the
    /// demo caller may not assume it.
    #[tokio::test]
    async fn the_revoker_role_writes_inline_policies_for_tvm_only() {
        let keys = SimKeys::demo();
        let sim = simulator(&keys, None).unwrap();
        let handle = sim.clone().spawn().await.unwrap();
        let sts = |k: &SimKey| {
            let creds = aws_credential_types::Credentials::new(
                &k.access_key_id,
                &k.secret_access_key,
                None,
                None,
                "demo",
            );
            let conf = aws_sdk_sts::Config::builder()
                .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                .region(aws_sdk_sts::config::Region::new("us-east-1"))
                .endpoint_url(handle.url())
                .credentials_provider(creds)
                .build();
            aws_sdk_sts::Client::from_conf(conf)
        };
        let assume = |k: &SimKey| {
            sts(k)
                .assume_role()
                .role_arn(demo::DEMO_REVOKER_ROLE_ARN)
                .role_session_name("tvm-revoker-0123456789ab")
                .source_identity("tvm.tvm-service.rvk-0123abcd.0123456789ab")
                .send()
        };
        assert!(assume(&keys.caller).await.is_err());
        let out = assume(&keys.service).await.unwrap();
        let c = out.credentials().unwrap();
        let revoker = crate::sts::Credentials {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: c.secret_access_key().to_owned(),
            session_token: c.session_token().to_owned(),
            expiration: jiff::Timestamp::now() + jiff::SignedDuration::from_mins(15),
        };
        let iam =
            crate::sts::iam::AwsIam::new(crate::identity::Partition::Aws, Some(&handle.url()))
                .unwrap();
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:SourceIdentity":"tvm.*.0123456789ab"}}}]}"#;
        iam.put_role_policy(&revoker, "TvmDemoReadOnly", "tvm-revocations-tvm-dev", doc)
            .await
            .unwrap();
        assert_eq!(
            iam.get_role_policy(&revoker, "TvmDemoReadOnly", "tvm-revocations-tvm-dev")
                .await
                .unwrap()
                .as_deref(),
            Some(doc)
        );
    }
}

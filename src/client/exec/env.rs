//! The environment `tvm exec` gives its child, so that whatever SDK it runs
//! finds the vended session and nothing else: each SDK's chain is environment
//! → web identity → shared files (keys, SSO, `credential_process`, assumed
//! roles) → container endpoint → IMDS, and everything before the container
//! endpoint is emptied.
//!
//! Invariants:
//! - every variable that would select other credentials is removed
//!   ([`SCRUBBED`]): environment keys (with botocore's `AWS_SECURITY_TOKEN`
//!   and the Java v1 names), profile selectors, web identity, the relative
//!   container URI and token file, botocore's legacy `AWS_CREDENTIAL_FILE`, and
//!   tvm's own recursion guard;
//! - every file a chain reads credentials from is replaced: `AWS_CONFIG_FILE`
//!   names the generated profile ([`super::profile`]), and
//!   `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CREDENTIAL_PROFILES_FILE` (Java v1)
//!   and `BOTO_CONFIG` (botocore's boto2 provider) name an empty file;
//! - those files are created new, 0600, in a directory created new, 0700,
//!   under the temporary directory, and removed once the child has exited
//!   ([`ChildFiles`]'s `Drop`); they hold no secret, so a tvm killed with
//!   SIGKILL leaves only the copied settings behind;
//! - `AWS_REGION`/`AWS_DEFAULT_REGION` are kept, and set from the caller's
//!   profile when the environment has neither;
//! - IMDS settings (`AWS_EC2_METADATA_*`) are left alone: the container
//!   endpoint comes before IMDS in every chain, and its errors end the chain.

use std::io::Read as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use super::error::ExecError;
use super::profile::{self, ChildProfile, Source};
use crate::client::source;

/// Variables removed from the child's environment: each would win over the
/// container endpoint in some SDK's default chain.
pub const SCRUBBED: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CREDENTIAL_FILE",
    source::RECURSION_GUARD,
];

/// Variables that name a file credentials are read from, each pointed at the
/// empty file.
pub const EMPTY_FILE_VARS: &[&str] = &[
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CREDENTIAL_PROFILES_FILE",
    "BOTO_CONFIG",
];

/// Largest AWS config or credentials file read.
pub const MAX_AWS_FILE_BYTES: u64 = 1 << 20;

/// The caller's profile, as the child gets it: settings only.
pub fn caller_profile(profile: Option<&str>) -> Result<ChildProfile, ExecError> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let name = profile
        .map(str::to_owned)
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".into());
    let config_path = aws_file("AWS_CONFIG_FILE", "config");
    let credentials_path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let config = read_aws_file(&config_path)?;
    let credentials = read_aws_file(&credentials_path)?;
    let (config_file, credentials_file) = (
        config_path.display().to_string(),
        credentials_path.display().to_string(),
    );
    Ok(profile::child_profile(
        &Source {
            file: &config_file,
            text: &config,
        },
        &Source {
            file: &credentials_file,
            text: &credentials,
        },
        &name,
    )?)
}

/// `$VAR`, else `~/.aws/NAME`, with a leading `~/` expanded as the SDKs do.
fn aws_file(var: &str, name: &str) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    match std::env::var(var).ok().filter(|v| !v.is_empty()) {
        Some(p) => match p.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None => PathBuf::from(p),
        },
        None => home.join(".aws").join(name),
    }
}

/// The text of `path`; empty when there is no such file.
fn read_aws_file(path: &Path) -> Result<String, ExecError> {
    let failed = |e: std::io::Error| ExecError::ReadConfig(path.display().to_string(), e);
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(failed(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_AWS_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_AWS_FILE_BYTES {
        return Err(failed(std::io::Error::other("larger than 1 MiB")));
    }
    String::from_utf8(bytes).map_err(|_| failed(std::io::Error::other("not UTF-8")))
}

/// The child's private AWS files; removed on drop.
pub struct ChildFiles {
    dir: PathBuf,
    config: PathBuf,
    empty: PathBuf,
}

impl ChildFiles {
    /// Writes `profile` and the empty credentials file into a new private directory.
    pub fn create(profile: &ChildProfile) -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "tvm-exec-{}",
            hex::encode(rand::random::<[u8; 16]>())
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let files = Self {
            config: dir.join("config"),
            empty: dir.join("credentials"),
            dir,
        };
        write_new(&files.config, profile.render().as_bytes())?;
        write_new(
            &files.empty,
            b"# Written by tvm exec: no credentials here; the command's come from tvm.\n",
        )?;
        Ok(files)
    }

    /// Sets the child's environment: scrubbed, pointed at these files, given
    /// the container endpoint and a region.
    pub fn apply(
        &self,
        cmd: &mut tokio::process::Command,
        endpoint: &str,
        token: &str,
        region: Option<&str>,
    ) {
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd.env("AWS_CONFIG_FILE", &self.config);
        for var in EMPTY_FILE_VARS {
            cmd.env(var, &self.empty);
        }
        cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint)
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", token);
        // Both names: boto3 reads only AWS_DEFAULT_REGION.
        let region_set = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
        if let (false, Some(region)) = (region_set, region) {
            cmd.env("AWS_REGION", region)
                .env("AWS_DEFAULT_REGION", region);
        }
    }
}

impl Drop for ChildFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Creates `path` (which must not exist) 0600 and writes `bytes`.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn files_are_private_and_removed_on_drop() {
        let files = ChildFiles::create(&ChildProfile::default()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&files.dir), 0o700);
        assert_eq!(mode(&files.config), 0o600);
        assert_eq!(mode(&files.empty), 0o600);
        let text = std::fs::read_to_string(&files.config).unwrap();
        assert!(text.ends_with("[default]\n"), "{text}");
        let dir = files.dir.clone();
        drop(files);
        assert!(!dir.exists());
    }
}

//! The `tvm credentials` cache: one file per (origin, profile, duration,
//! caller credential source, approval id), under `$XDG_CACHE_HOME/tvm` or the
//! platform's cache directory, so that every AWS CLI call does not cost a vend.
//!
//! Invariants: the directory is 0700 and the files 0600, both owned by the
//! user; a file that is corrupt, owned by someone else, readable by group or
//! world, or a symlink is never trusted — it is ignored, removed and replaced;
//! an entry is reused only until [`REFRESH_BEFORE_EXPIRY`] before it expires;
//! writes go to a fresh temporary file renamed into place, so concurrent
//! invocations never see a torn file. Break-glass vends are never cached (the
//! caller does not ask). Nothing here logs credentials.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use super::VendedCredentials;

/// An entry is used until this long before its expiry, then vended afresh.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// Largest cache file read.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;

/// What one cached answer is for.
#[derive(Debug, Clone)]
pub struct CacheKey {
    /// The tvm origin tokens are signed for.
    pub origin: String,
    /// The tvm profile.
    pub profile: String,
    /// `--duration`, if given.
    pub duration: Option<u32>,
    /// Where the caller's credentials come from ([`super::source::describe`]).
    pub source: String,
    /// `--approval-id`, if given.
    pub approval_id: Option<String>,
    /// `--reason` (break-glass), if given: such credentials are cached only
    /// under their reason, so a call without it never reads them.
    pub reason: Option<String>,
}

impl CacheKey {
    /// The file name: a hash of every field, so no field can escape the directory.
    fn file_name(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.origin.as_str(),
            self.profile.as_str(),
            &self.duration.map(|d| d.to_string()).unwrap_or_default(),
            self.source.as_str(),
            self.approval_id.as_deref().unwrap_or_default(),
            // Tagged, so that an approval id and a reason of the same text
            // never share an entry.
            if self.reason.is_some() {
                "break-glass"
            } else {
                ""
            },
            self.reason.as_deref().unwrap_or_default(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        format!("{}.json", hex::encode(h.finalize()))
    }
}

/// The cache directory: `$XDG_CACHE_HOME/tvm`, else `~/Library/Caches/tvm` on
/// macOS and `~/.cache/tvm` elsewhere. `None` without a home.
pub fn default_dir() -> Option<PathBuf> {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(x) = nonempty("XDG_CACHE_HOME").map(PathBuf::from) {
        if x.is_absolute() {
            return Some(x.join("tvm"));
        }
    }
    let home = PathBuf::from(nonempty("HOME")?);
    Some(if cfg!(target_os = "macos") {
        home.join("Library/Caches/tvm")
    } else {
        home.join(".cache/tvm")
    })
}

/// One cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

fn my_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Whether `meta` is safe to trust: ours, and no access for group or others.
fn private(meta: &fs::Metadata) -> bool {
    meta.uid() == my_uid() && meta.mode() & 0o077 == 0
}

impl Cache {
    /// The cache at `dir`, created 0700 if missing. `None` (no caching) when
    /// it is not a private directory of ours and cannot be made one.
    pub fn open(dir: PathBuf) -> Option<Self> {
        if fs::symlink_metadata(&dir).is_err() {
            let mut b = fs::DirBuilder::new();
            b.recursive(true);
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(&dir).ok()?;
        }
        let meta = fs::symlink_metadata(&dir).ok()?;
        if !meta.is_dir() || meta.uid() != my_uid() {
            return None;
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).ok()?;
        }
        Some(Self { dir })
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The cached credentials for `key` when trustworthy and valid for more
    /// than [`REFRESH_BEFORE_EXPIRY`]; anything else there is removed.
    pub fn get(&self, key: &CacheKey, now: jiff::Timestamp) -> Option<VendedCredentials> {
        let path = self.path(key);
        match read_trusted(&path) {
            Some(v) if fresh(&v, now) => Some(v),
            Some(_) => None,
            None => {
                // Corrupt, foreign, too open or a symlink: never trusted, replaced.
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores `creds` for `key`: a new 0600 file renamed over the old one.
    pub fn put(&self, key: &CacheKey, creds: &VendedCredentials) -> std::io::Result<()> {
        let json = serde_json::to_vec(creds)?;
        let tmp = self.dir.join(format!(
            ".{}.{}.tmp",
            key.file_name(),
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                .open(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            fs::rename(&tmp, self.path(key))
        };
        let result = write();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// Reads an entry without following a symlink; `None` when missing or untrustworthy.
fn read_trusted(path: &Path) -> Option<VendedCredentials> {
    let f: File = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || !private(&meta) || meta.len() > MAX_ENTRY_BYTES {
        return None;
    }
    let mut buf = Vec::new();
    f.take(MAX_ENTRY_BYTES).read_to_end(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

/// Whether `v` stays valid for more than [`REFRESH_BEFORE_EXPIRY`] after `now`.
fn fresh(v: &VendedCredentials, now: jiff::Timestamp) -> bool {
    let Ok(exp) = v.expiration.parse::<jiff::Timestamp>() else {
        return false;
    };
    let margin = jiff::SignedDuration::try_from(REFRESH_BEFORE_EXPIRY).unwrap_or_default();
    now.checked_add(margin).is_ok_and(|t| t < exp)
}

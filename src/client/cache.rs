//! The `tvm credentials` cache: one file per (origin, profile, duration,
//! caller identity ([`super::caller_key`]), approval id, break-glass reason),
//! under `$XDG_CACHE_HOME/tvm` or the
//! platform's cache directory, so that every AWS CLI call does not cost a vend.
//!
//! Invariants: the directory is 0700 and the files 0600, both owned by the
//! user; a file that is corrupt, owned by someone else, readable by group or
//! world, a symlink, a FIFO or anything else but a regular file is never
//! trusted — it is ignored (with a warning, unless merely corrupt), removed
//! and replaced, and opening it never blocks (`O_NONBLOCK | O_NOFOLLOW`, then
//! `fstat` on the open file);
//! an entry is reused only until [`REFRESH_BEFORE_EXPIRY`] before it expires;
//! writes go to a fresh temporary file renamed into place, so concurrent
//! invocations never see a torn file. A break-glass vend is cached only under
//! its exact reason: a call without `--reason`, or with another one, never
//! reads it. Reading an entry needs no network. Nothing here logs credentials.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use super::wire::VendedCredentials;

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
    /// Who the caller is ([`super::caller_key::caller_key`]), so that
    /// another identity never reads this session.
    pub caller: String,
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
            self.caller.as_str(),
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
    /// than [`REFRESH_BEFORE_EXPIRY`]; anything else there is removed (with a
    /// warning on stderr when it was not a private regular file of ours).
    pub fn get(&self, key: &CacheKey, now: jiff::Timestamp) -> Option<VendedCredentials> {
        let path = self.path(key);
        match read_trusted(&path) {
            Entry::Missing => None,
            Entry::Valid(v) if fresh(&v, now) => Some(v),
            Entry::Valid(_) => None,
            Entry::Untrusted(why) => {
                if let Some(why) = why {
                    eprintln!(
                        "tvm credentials: ignoring and replacing the cache entry {}: {why}",
                        path.display()
                    );
                }
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

impl Cache {
    /// Removes every trusted entry holding the session `access_key_id` (a
    /// revoked session must not be served again); returns how many went.
    /// Entries are found by content: their names are hashes of what they
    /// are for, not of the key. Untrusted files are left to [`Cache::get`].
    pub fn remove_access_key(&self, access_key_id: &str) -> usize {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in dir.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if let Entry::Valid(v) = read_trusted(&path) {
                if v.access_key_id == access_key_id && fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
        }
        removed
    }
}

/// What is found at an entry's path.
enum Entry {
    /// Nothing.
    Missing,
    /// A well-formed entry of ours.
    Valid(VendedCredentials),
    /// Something not to trust: not a regular file, someone else's or too
    /// open (with the reason to warn about), or corrupt (`None`: a torn or
    /// old entry is ordinary, no warning).
    Untrusted(Option<&'static str>),
}

/// Reads an entry without following a symlink and without blocking: opened
/// `O_NOFOLLOW | O_NONBLOCK` (a FIFO planted there neither hangs the open nor
/// the read), then checked with `fstat` on the open file before any read.
fn read_trusted(path: &Path) -> Entry {
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let f: File = match OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Entry::Missing,
        // ELOOP: a symlink; anything else unreadable is not trusted either.
        Err(_) => return Entry::Untrusted(Some("not a regular file (a symlink?)")),
    };
    let Ok(meta) = f.metadata() else {
        return Entry::Untrusted(Some("cannot stat it"));
    };
    if !meta.is_file() {
        return Entry::Untrusted(Some("not a regular file"));
    }
    if !private(&meta) {
        return Entry::Untrusted(Some("not a private (0600) file of yours"));
    }
    if meta.len() > MAX_ENTRY_BYTES {
        return Entry::Untrusted(Some("too large"));
    }
    let mut buf = Vec::new();
    if f.take(MAX_ENTRY_BYTES).read_to_end(&mut buf).is_err() {
        return Entry::Untrusted(None);
    }
    serde_json::from_slice(&buf).map_or(Entry::Untrusted(None), Entry::Valid)
}

/// Whether `v` stays valid for more than [`REFRESH_BEFORE_EXPIRY`] after `now`.
fn fresh(v: &VendedCredentials, now: jiff::Timestamp) -> bool {
    let Ok(exp) = v.expiration.parse::<jiff::Timestamp>() else {
        return false;
    };
    let margin = jiff::SignedDuration::try_from(REFRESH_BEFORE_EXPIRY).unwrap_or_default();
    now.checked_add(margin).is_ok_and(|t| t < exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_or_a_directory_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        // A blocking open would never return: it is watched from here.
        std::thread::spawn(move || {
            let _ = tx.send(matches!(
                read_trusted(&path),
                Entry::Untrusted(Some("not a regular file"))
            ));
        });
        let refused = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("opening a FIFO blocked");
        assert!(refused);
        assert!(matches!(
            read_trusted(dir.path()),
            Entry::Untrusted(Some("not a regular file"))
        ));
        assert!(matches!(
            read_trusted(&dir.path().join("missing")),
            Entry::Missing
        ));
    }

    #[test]
    fn a_revoked_session_is_removed_whatever_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path().join("tvm")).unwrap();
        let creds = |id: &str| VendedCredentials {
            access_key_id: id.into(),
            secret_access_key: "s".into(),
            token: "t".into(),
            expiration: "2099-01-01T00:00:00Z".into(),
            source_identity: "tvm.alice.direct.0123456789ab".into(),
            role_arn: "arn:aws:iam::111122223333:role/R".into(),
        };
        let key = |profile: &str| CacheKey {
            origin: "https://tvm.example.com".into(),
            profile: profile.into(),
            duration: None,
            caller: "c".into(),
            approval_id: None,
            reason: None,
        };
        cache
            .put(&key("a"), &creds("ASIAREVOKED000000001"))
            .unwrap();
        cache
            .put(&key("b"), &creds("ASIAKEPT000000000001"))
            .unwrap();
        assert_eq!(cache.remove_access_key("ASIAREVOKED000000001"), 1);
        let now = jiff::Timestamp::now();
        assert!(cache.get(&key("a"), now).is_none());
        assert!(cache.get(&key("b"), now).is_some());
        assert_eq!(cache.remove_access_key("ASIAREVOKED000000001"), 0);
    }
}

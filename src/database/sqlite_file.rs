//! The SQLite database file on disk: created by tvm itself, owner-only
//! (0600), before sqlx opens it.
//!
//! Invariants: the database holds every request's reason, the audit trail
//! and the web page's session digests, so no other local user may read it.
//! tvm creates a missing file with mode 0600 (sqlx would create it 0644 under
//! the usual umask); an existing file, and its `-wal`, `-shm` and `-journal`
//! companions, lose any group or other permission. SQLite creates those
//! companions with the main file's mode, so they are 0600 too. An in-memory
//! database (`sqlite::memory:`, `mode=memory`) has no file.

use std::fs::{OpenOptions, Permissions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

use super::error::DbError;

/// The mode of the database file and its companions.
pub const DATABASE_FILE_MODE: u32 = 0o600;

/// The companions SQLite keeps beside the database file.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// The file a `sqlite:` URL names, or `None` for an in-memory database.
pub(super) fn path_of(url: &str) -> Result<Option<PathBuf>, DbError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    if database.is_empty()
        || database == ":memory:"
        || params.split('&').any(|p| p == "mode=memory")
    {
        return Ok(None);
    }
    // sqlx's own parser: the same path (percent-decoded) it will open.
    let options = SqliteConnectOptions::from_str(url)?;
    Ok(Some(options.get_filename().to_path_buf()))
}

/// Creates the file of `url` owner-only if missing, and takes group and other
/// permissions away from it and its companions if present.
pub(super) fn prepare(url: &str) -> Result<(), DbError> {
    let Some(path) = path_of(url)? else {
        return Ok(());
    };
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DbError::File { path, source }
    };
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(DATABASE_FILE_MODE)
        .open(&path)
        .map_err(fail(&path))?;
    restrict(&path).map_err(fail(&path))?;
    for suffix in COMPANIONS {
        let mut companion = path.clone().into_os_string();
        companion.push(suffix);
        let companion = PathBuf::from(companion);
        match restrict(&companion) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other.map_err(fail(&companion))?,
        }
    }
    Ok(())
}

/// Clears the group and other bits of an existing regular file.
fn restrict(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, Permissions::from_mode(DATABASE_FILE_MODE))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn in_memory_urls_name_no_file() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://?mode=memory",
            "sqlite:x.db?mode=memory",
        ] {
            assert_eq!(path_of(url).unwrap(), None, "{url}");
        }
        assert_eq!(
            path_of("sqlite:///var/lib/tvm/approvals.db").unwrap(),
            Some(PathBuf::from("/var/lib/tvm/approvals.db"))
        );
        assert_eq!(
            path_of("sqlite://a%20b.db?mode=rwc").unwrap(),
            Some(PathBuf::from("a b.db"))
        );
    }

    #[tokio::test]
    async fn the_database_and_its_companions_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("approvals.db");
        let url = format!("sqlite://{}", path.display());
        let db = crate::database::connect(&url).await.unwrap();
        // Write something so SQLite has its companions open.
        sqlx::query("INSERT INTO ui_login_codes VALUES ('d', 'a', 'u', '/ui/', 1, NULL)")
            .execute(&db.pool)
            .await
            .unwrap();
        let mut seen = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let p = entry.unwrap().path();
            assert_eq!(mode(&p), 0o600, "{}", p.display());
            seen += 1;
        }
        assert!(seen >= 1);
        drop(db);

        // An existing 0644 file (made by an older tvm) and its WAL are tightened.
        let old = dir.path().join("old.db");
        let wal = dir.path().join("old.db-wal");
        for p in [&old, &wal] {
            std::fs::write(p, b"").unwrap();
            std::fs::set_permissions(p, Permissions::from_mode(0o644)).unwrap();
        }
        prepare(&format!("sqlite://{}", old.display())).unwrap();
        assert_eq!((mode(&old), mode(&wal)), (0o600, 0o600));
    }
}

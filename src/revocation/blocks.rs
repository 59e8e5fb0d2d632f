//! The in-memory block set every replica checks on every authenticated
//! request (DESIGN §13, "Blocks, at once and on every replica"): blocked
//! caller keys, IAM users whose temporary keys are refused, and suspended
//! identities, loaded from `revocation_blocks`.
//!
//! Invariants: until the first load succeeded every check refuses (and
//! `/readyz` says so); when the last successful poll is older than
//! `max_staleness` every check refuses with [`Refusal::Stale`] (503) unless
//! the operator chose availability (`serve_stale`), in which case the last
//! known blocks are used; an entry past its `expires_at` no longer blocks,
//! even before the next load drops it; a lifted block is never loaded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sqlx::{AnyPool, Row as _};

use super::keys::subject_keys;
use crate::identity::{AccountId, Identity, PrincipalType};

/// Why a check refused a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A blocked caller key, or a temporary key of a blocked IAM user (403,
    /// decision reason `revoked_credentials`).
    RevokedCredentials,
    /// A suspended identity (403, decision reason `suspended`).
    Suspended,
    /// The blocks are not loaded, or too old (503).
    Stale,
}

impl Refusal {
    /// The decision reason / metric label.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::RevokedCredentials => "revoked_credentials",
            Refusal::Suspended => "suspended",
            Refusal::Stale => "revocations_stale",
        }
    }
}

/// The block types of `revocation_blocks.block_type`.
pub(crate) const CALLER_KEY: &str = "caller_key";
/// Every temporary key of an IAM user (value: its exact key).
pub(crate) const IAM_USER: &str = "iam_user";
/// A suspended identity (value: an identity key).
pub(crate) const IDENTITY: &str = "identity";

/// value → expiry (unix seconds; `None`: until lifted).
type Entries = HashMap<String, Option<i64>>;

#[derive(Debug, Default)]
struct Sets {
    caller_keys: Entries,
    iam_users: Entries,
    identities: Entries,
}

fn live(set: &Entries, key: &str, now: i64) -> bool {
    set.get(key).is_some_and(|e| e.is_none_or(|at| at > now))
}

/// Who is being checked: a verified caller of this request, or the
/// principal of a web-page session (with the key it signed in with).
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The identity STS returned.
    pub identity: &'a Identity,
    /// Its `UserId`.
    pub user_id: &'a str,
    /// The access key that signed its proof, when known.
    pub access_key_id: Option<&'a str>,
}

/// The shared block set (cheap to clone).
#[derive(Debug, Clone)]
pub struct BlockSet(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    sets: RwLock<Sets>,
    version: AtomicI64,
    loaded: AtomicBool,
    last_ok: Mutex<Option<Instant>>,
    max_staleness: Duration,
    serve_stale: bool,
}

impl BlockSet {
    /// An empty, not yet loaded set; `serve_stale` is
    /// `database.ledger_failure: open`.
    pub fn new(max_staleness: Duration, serve_stale: bool) -> Self {
        Self(Arc::new(Inner {
            sets: RwLock::default(),
            version: AtomicI64::new(-1),
            loaded: AtomicBool::new(false),
            last_ok: Mutex::new(None),
            max_staleness,
            serve_stale,
        }))
    }

    /// Whether the first load succeeded (`/readyz`).
    pub fn is_loaded(&self) -> bool {
        self.0.loaded.load(Ordering::SeqCst)
    }

    /// The version last loaded (-1 before the first load).
    pub fn version(&self) -> i64 {
        self.0.version.load(Ordering::SeqCst)
    }

    /// Whether the last successful poll is older than `max_staleness`.
    pub fn is_stale(&self) -> bool {
        let last = *self.0.last_ok.lock().unwrap_or_else(|e| e.into_inner());
        last.is_none_or(|t| t.elapsed() > self.0.max_staleness)
    }

    /// Whether stale blocks are served on (`database.ledger_failure: open`).
    pub fn serves_stale(&self) -> bool {
        self.0.serve_stale
    }

    /// Records a successful poll.
    pub(crate) fn mark_polled(&self) {
        *self.0.last_ok.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Reads the version and every unlifted, unexpired block at `now`, and
    /// swaps them in.
    pub async fn load(&self, pool: &AnyPool, now: i64) -> Result<(), sqlx::Error> {
        let version: i64 = sqlx::query("SELECT version FROM revocation_state WHERE id = 1")
            .fetch_one(pool)
            .await?
            .try_get(0)?;
        let rows = sqlx::query(
            "SELECT block_type, value, expires_at FROM revocation_blocks \
             WHERE lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(now)
        .fetch_all(pool)
        .await?;
        let mut sets = Sets::default();
        for r in rows {
            let (kind, value, expires): (String, String, Option<i64>) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let set = match kind.as_str() {
                CALLER_KEY => &mut sets.caller_keys,
                IAM_USER => &mut sets.iam_users,
                IDENTITY => &mut sets.identities,
                _ => continue,
            };
            // Two blocks of one value: the longer one wins.
            let e = set.entry(value).or_insert(expires);
            *e = match (*e, expires) {
                (None, _) | (_, None) => None,
                (Some(a), Some(b)) => Some(a.max(b)),
            };
        }
        *self.0.sets.write().unwrap_or_else(|e| e.into_inner()) = sets;
        self.0.version.store(version, Ordering::SeqCst);
        self.0.loaded.store(true, Ordering::SeqCst);
        self.mark_polled();
        Ok(())
    }

    /// The check of every authenticated route, right after the caller's own
    /// GetCallerIdentity: its key, its IAM user (for a temporary key), its
    /// identity keys; and whether the blocks are fresh enough to judge by.
    pub fn check(
        &self,
        subject: Subject<'_>,
        sso_accounts: &[AccountId],
        now: i64,
    ) -> Result<(), Refusal> {
        if !self.is_loaded() || (self.is_stale() && !self.0.serve_stale) {
            return Err(Refusal::Stale);
        }
        let sets = self.0.sets.read().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = subject.access_key_id {
            if live(&sets.caller_keys, key, now) {
                return Err(Refusal::RevokedCredentials);
            }
            let exact =
                crate::identity::exact_key(subject.identity.arn().as_str(), subject.user_id);
            if key.starts_with("ASIA")
                && subject.identity.principal_type() == PrincipalType::User
                && live(&sets.iam_users, &exact, now)
            {
                return Err(Refusal::RevokedCredentials);
            }
        }
        let keys = subject_keys(subject.identity, subject.user_id, sso_accounts);
        if keys.iter().any(|k| live(&sets.identities, k, now)) {
            return Err(Refusal::Suspended);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject<'a>(identity: &'a Identity, user_id: &'a str, key: &'a str) -> Subject<'a> {
        Subject {
            identity,
            user_id,
            access_key_id: Some(key),
        }
    }

    fn set_with(entries: &[(&str, &str, Option<i64>)]) -> BlockSet {
        let b = BlockSet::new(Duration::from_secs(10), false);
        let mut sets = Sets::default();
        for (kind, value, exp) in entries {
            let s = match *kind {
                CALLER_KEY => &mut sets.caller_keys,
                IAM_USER => &mut sets.iam_users,
                _ => &mut sets.identities,
            };
            s.insert((*value).into(), *exp);
        }
        *b.0.sets.write().unwrap() = sets;
        b.0.loaded.store(true, Ordering::SeqCst);
        b.mark_polled();
        b
    }

    #[test]
    fn nothing_is_served_before_the_first_load() {
        let b = BlockSet::new(Duration::from_secs(10), true);
        let alice = Identity::from_arn("arn:aws:iam::111122223333:user/alice").unwrap();
        assert_eq!(
            b.check(subject(&alice, "AIDA1", "AKIAX"), &[], 0),
            Err(Refusal::Stale)
        );
    }

    #[test]
    fn keys_users_and_identities_block_until_they_expire() {
        let alice = Identity::from_arn("arn:aws:iam::111122223333:user/alice").unwrap();
        let exact = crate::identity::exact_key("arn:aws:iam::111122223333:user/alice", "AIDA1");
        let b = set_with(&[
            (CALLER_KEY, "ASIALEAKED", Some(100)),
            (IAM_USER, &exact, None),
        ]);
        let check = |key, now| b.check(subject(&alice, "AIDA1", key), &[], now);
        assert_eq!(check("ASIALEAKED", 99), Err(Refusal::RevokedCredentials));
        assert_eq!(check("ASIAOTHER", 200), Err(Refusal::RevokedCredentials));
        assert_eq!(check("AKIAOTHER", 200), Ok(()), "only temporary keys");
        let again = b.check(subject(&alice, "AIDA2", "ASIAOTHER"), &[], 200);
        assert_eq!(again, Ok(()), "a re-created user is another identity");
        let b = set_with(&[(CALLER_KEY, "ASIALEAKED", Some(100))]);
        assert_eq!(
            b.check(subject(&alice, "AIDA1", "ASIALEAKED"), &[], 100),
            Ok(()),
            "expired"
        );
    }

    #[test]
    fn a_suspended_sso_person_is_refused_in_every_permission_set_but_no_one_else() {
        let acct = [AccountId::parse("111122223333").unwrap()];
        let b = set_with(&[(IDENTITY, "sso alice@example.com", None)]);
        let s = |arn: &str, uid: &str| {
            let id = Identity::from_arn(arn).unwrap();
            b.check(subject(&id, uid, "ASIAX"), &acct, 0)
        };
        let p = "arn:aws:sts::111122223333:assumed-role";
        assert_eq!(
            s(
                &format!("{p}/AWSReservedSSO_Admin_1/Alice@Example.com"),
                "AROAA:Alice@Example.com"
            ),
            Err(Refusal::Suspended)
        );
        assert_eq!(
            s(
                &format!("{p}/AWSReservedSSO_Dev_2/alice@example.com"),
                "AROAB:alice@example.com"
            ),
            Err(Refusal::Suspended)
        );
        assert_eq!(
            s(
                &format!("{p}/AWSReservedSSO_Dev_2/erin@example.com"),
                "AROAB:erin@example.com"
            ),
            Ok(())
        );
        assert_eq!(
            s(
                &format!("{p}/AWSReservedSSO_Dev_2/alice@other.com"),
                "AROAB:alice@other.com"
            ),
            Ok(())
        );
        let foreign =
            "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Dev_2/alice@example.com";
        assert_eq!(s(foreign, "AROAC:alice@example.com"), Ok(()));
    }

    #[test]
    fn stale_blocks_refuse_unless_served_open() {
        let alice = Identity::from_arn("arn:aws:iam::111122223333:user/alice").unwrap();
        for (open, want) in [(false, Err(Refusal::Stale)), (true, Ok(()))] {
            let b = BlockSet::new(Duration::from_millis(1), open);
            b.0.loaded.store(true, Ordering::SeqCst);
            b.mark_polled();
            std::thread::sleep(Duration::from_millis(5));
            assert_eq!(b.check(subject(&alice, "AIDA1", "AKIAX"), &[], 0), want);
        }
    }
}

//! An STS-compatible HTTP server inside the crate (DESIGN §10), for `tvm dev`
//! and the tests: they point `aws-sdk-sts` and tvm's GetCallerIdentity sender
//! at it over loopback.
//!
//! Owns: SigV4 verification of header-signed and presigned requests (`sigv4`,
//! the signature computed by `aws-sigv4`), the `GetCallerIdentity` and
//! `AssumeRole` actions with AWS's parameter rules (`rules`, `actions`), the
//! users, roles and sessions it knows (`store`), `AssumeRoleWithWebIdentity`
//! for registered web identity tokens (the one unsigned action), STS's XML and JSON documents
//! (`xml`), the axum glue (`server`), the record of every request, fault
//! injection, and an in-process [`Sts`](crate::sts::Sts) client ([`SimSts`]).
//! Also `GetAccessKeyInfo`, each session's issue time, and IAM's
//! role-policy subset (`iam`: `PutRolePolicy`, `GetRolePolicy`,
//! `DeleteRolePolicy`, signed for service `iam`, told apart by
//! `Version=2010-05-08` on the same port) whose `Deny`s refuse every call of
//! a matching session but `GetCallerIdentity` (DESIGN §13).
//!
//! A request: `server` (body cap) → `dispatch` (parameters, record) → fault
//! injection → `sigv4` (parse, clock window, key, session token and expiry,
//! signature) → the role's inline denies → action → document with
//! `x-amzn-RequestId` → record.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use tvm::clock::SystemClock;
//! use tvm::sts::sim::{SimRole, Simulator};
//!
//! let sim = Simulator::new(Arc::new(SystemClock));
//! let alice = "arn:aws:iam::111122223333:user/alice";
//! let key = sim.create_access_key(alice).expect("valid ARN");
//! sim.add_role(SimRole::new("arn:aws:iam::111122223333:role/Prod", vec![alice.into()]))
//!     .expect("valid role");
//! let handle = sim.clone().spawn().await?; // http://127.0.0.1:PORT, stops on drop
//! # let _ = (key, handle.url());
//! # Ok(())
//! # }
//! ```
//!
//! Invariants: no action runs without a verified signature; random keys,
//! secrets, tokens and ids come from a CSPRNG; secrets and tokens are never
//! logged, recorded, or shown by `Debug`; the state lock is never held across
//! an `.await`.

mod actions;
mod dispatch;
mod iam;
mod inproc;
mod params;
mod rules;
mod server;
mod sigv4;
mod store;
mod types;
pub(crate) mod xml;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;

use crate::clock::Clock;

pub use inproc::SimSts;
pub use server::{SimHandle, MAX_BODY_BYTES};
pub use types::{
    Fault, RecordedCall, SimAccessKey, SimError, SimRole, SimRoleSession,
    DEFAULT_MAX_SESSION_DURATION,
};

use store::{
    check_access_key_id, parse_iam_arn, KeyEntry, Principal, RoleEntry, Secret, Session, Store,
};

/// Most calls kept in the record (oldest dropped first), so a long-running
/// `tvm dev` does not grow without bound.
pub const MAX_RECORDED_CALLS: usize = 10_000;

/// The fault key that applies to every action.
pub const ANY_ACTION: &str = "*";

/// The simulator: cheap to clone, all clones share one state.
#[derive(Clone)]
pub struct Simulator {
    state: Arc<State>,
}

struct State {
    /// Every time check (clock skew, presign expiry, session expiry) reads it.
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    store: Store,
    calls: VecDeque<RecordedCall>,
    faults: HashMap<String, Fault>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("Simulator")
            .field("keys", &inner.store.keys.len())
            .field("roles", &inner.store.roles.len())
            .field("calls", &inner.calls.len())
            .finish_non_exhaustive()
    }
}

fn check_name(value: &str, field: &'static str) -> Result<(), SimError> {
    let ok = (2..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    ok.then_some(()).ok_or(SimError::InvalidValue {
        field,
        reason: "must be 2..=64 of [\\w+=,.@-]",
    })
}

fn check_secret(value: &str, field: &'static str) -> Result<(), SimError> {
    let ok =
        !value.is_empty() && value.len() <= 4096 && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(()).ok_or(SimError::InvalidValue {
        field,
        reason: "must be 1..=4096 printable ASCII characters",
    })
}

impl Simulator {
    /// An empty simulator (no users, no roles) reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Arc::new(State {
                clock,
                inner: Mutex::new(Inner::default()),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.state.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> Timestamp {
        self.state.clock.now()
    }

    /// Registers a long-term key for an IAM user `arn:P:iam::A:user/path/name`
    /// (or the account root `arn:P:iam::A:root`).
    pub fn add_user(&self, arn: &str, access_key_id: &str, secret: &str) -> Result<(), SimError> {
        let parsed = parse_iam_arn(arn, "user")?;
        check_access_key_id(access_key_id)?;
        check_secret(secret, "secret")?;
        let mut inner = self.lock();
        let user_id = if parsed.name == "root" && arn.ends_with(":root") {
            parsed.account.clone()
        } else {
            inner.store.unique_id(arn, "AIDA")
        };
        let entry = KeyEntry {
            secret: Secret::new(secret),
            principal: Principal::User {
                arn: arn.to_owned(),
                parsed,
                user_id,
            },
        };
        inner.store.insert_key(access_key_id, entry)
    }

    /// Makes a random long-term key (`AKIA...`, CSPRNG) for an IAM user (or the
    /// account root), registers it and returns it; for `tvm dev`'s demo keys.
    pub fn create_access_key(&self, user_arn: &str) -> Result<SimAccessKey, SimError> {
        loop {
            let access_key_id = store::random_id("AKIA", 16);
            let secret = store::random_secret();
            match self.add_user(user_arn, &access_key_id, secret.expose()) {
                Err(SimError::DuplicateAccessKey(_)) => continue,
                Err(e) => return Err(e),
                Ok(()) => {
                    return Ok(SimAccessKey {
                        access_key_id,
                        secret_access_key: secret.expose().to_owned(),
                    })
                }
            }
        }
    }

    /// Registers a role that can be assumed.
    pub fn add_role(&self, role: SimRole) -> Result<(), SimError> {
        let parsed = parse_iam_arn(&role.arn, "role")?;
        if !(DEFAULT_MAX_SESSION_DURATION..=43_200).contains(&role.max_session_duration) {
            return Err(SimError::InvalidValue {
                field: "max_session_duration",
                reason: "must be 3600..=43200",
            });
        }
        if let Some(e) = &role.external_id {
            let ok = (2..=1224).contains(&e.len())
                && e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
            if !ok {
                return Err(SimError::InvalidValue {
                    field: "external_id",
                    reason: "must be 2..=1224 of [\\w+=,.@:/-]",
                });
            }
        }
        let mut inner = self.lock();
        if inner.store.roles.contains_key(&role.arn) {
            return Err(SimError::DuplicateRole(role.arn));
        }
        let role_id = inner.store.unique_id(&role.arn, "AROA");
        let arn = role.arn.clone();
        inner.store.roles.insert(
            arn,
            RoleEntry {
                role,
                parsed,
                role_id,
                policies: Default::default(),
            },
        );
        Ok(())
    }

    /// Registers a role session made elsewhere (e.g. an IAM Identity Center
    /// user), whose key can then sign requests.
    pub fn add_role_session(&self, session: SimRoleSession) -> Result<(), SimError> {
        let role = parse_iam_arn(&session.role_arn, "role")?;
        check_name(&session.session_name, "session_name")?;
        check_access_key_id(&session.access_key_id)?;
        check_secret(&session.secret_access_key, "secret_access_key")?;
        check_secret(&session.session_token, "session_token")?;
        if let Some(si) = &session.source_identity {
            check_name(si, "source_identity")?;
        }
        let issued_at = self.now();
        let mut inner = self.lock();
        let role_id = inner.store.unique_id(&session.role_arn, "AROA");
        let entry = KeyEntry {
            secret: Secret::new(session.secret_access_key),
            principal: Principal::Session(Session {
                role_arn: session.role_arn,
                role,
                role_id,
                session_name: session.session_name,
                source_identity: session.source_identity,
                expiration: session.expiration,
                issued_at,
                session_token: Secret::new(session.session_token),
            }),
        };
        inner.store.insert_key(&session.access_key_id, entry)
    }

    /// Accepts `token` in `AssumeRoleWithWebIdentity` as a token of the OIDC
    /// provider `provider_arn` (`arn:P:iam::A:oidc-provider/ISSUER`) for
    /// `subject`, as if its signature had verified. A role trusts the provider
    /// by listing `provider_arn` among its trusted principals (a trust policy's
    /// `Federated` principal).
    pub fn add_web_identity(
        &self,
        provider_arn: &str,
        token: &str,
        subject: &str,
    ) -> Result<(), SimError> {
        let ok = provider_arn.starts_with("arn:")
            && provider_arn
                .split_once(":oidc-provider/")
                .is_some_and(|(_, issuer)| !issuer.is_empty());
        if !ok {
            return Err(SimError::InvalidValue {
                field: "provider_arn",
                reason: "must be arn:P:iam::A:oidc-provider/ISSUER",
            });
        }
        check_secret(token, "token")?;
        check_secret(subject, "subject")?;
        self.lock().store.web_identities.push(store::WebIdentity {
            provider_arn: provider_arn.to_owned(),
            token: Secret::new(token),
            subject: subject.to_owned(),
        });
        Ok(())
    }

    /// The unique id (`AIDA...` / `AROA...`) the simulator gave a user or role ARN.
    pub fn unique_id(&self, arn: &str) -> Option<String> {
        let mut inner = self.lock();
        let known = inner.store.roles.contains_key(arn)
            || inner.store.keys.values().any(|k| match &k.principal {
                Principal::User { arn: a, .. } => a == arn,
                Principal::Session(s) => s.role_arn == arn,
            });
        let prefix = if arn.contains(":role/") {
            "AROA"
        } else {
            "AIDA"
        };
        known.then(|| inner.store.unique_id(arn, prefix))
    }

    /// When the session of `access_key_id` was issued (its
    /// `aws:TokenIssueTime`), or `None` for a long-term or unknown key.
    pub fn session_issued_at(&self, access_key_id: &str) -> Option<Timestamp> {
        match &self.lock().store.keys.get(access_key_id)?.principal {
            Principal::Session(s) => Some(s.issued_at),
            Principal::User { .. } => None,
        }
    }

    /// Every request received (up to [`MAX_RECORDED_CALLS`]), oldest first.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.lock().calls.iter().cloned().collect()
    }

    /// The recorded requests whose `Action` was `action`.
    pub fn calls_for(&self, action: &str) -> Vec<RecordedCall> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.action.as_deref() == Some(action))
            .cloned()
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Injects (or with `None` removes) a fault for every request whose
    /// `Action` is `action`; [`ANY_ACTION`] (`"*"`) applies to all requests
    /// that have no fault of their own.
    pub fn set_fault(&self, action: &str, fault: Option<Fault>) {
        let mut inner = self.lock();
        match fault {
            Some(f) => inner.faults.insert(action.to_owned(), f),
            None => inner.faults.remove(action),
        };
    }

    fn fault_for(&self, action: Option<&str>) -> Option<Fault> {
        let inner = self.lock();
        action
            .and_then(|a| inner.faults.get(a))
            .or_else(|| inner.faults.get(ANY_ACTION))
            .cloned()
    }

    fn record(&self, call: RecordedCall) {
        let mut inner = self.lock();
        if inner.calls.len() >= MAX_RECORDED_CALLS {
            inner.calls.pop_front();
        }
        inner.calls.push_back(call);
    }
}

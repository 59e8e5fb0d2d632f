//! The ledger step of a vend (DESIGN §13): the `pending` row before
//! AssumeRole, and after it the completion that re-checks blocks and grant,
//! or the `failed` mark.
//!
//! Invariants: with a ledger, STS is not called unless the pending row was
//! committed — except under `database.ledger_failure: open`, which serves
//! without a row while the database fails (a WARN line says so, the
//! decision line records the vend as ever); credentials are handed out only
//! after the completion committed `issued` (a refused completion discards
//! them: 403 `POLICY_DENY`, whatever `ledger_failure` says; a failed one is
//! 503 `ledger_error`, or served under `open`); without a database nothing
//! here runs.

use super::log::DecisionLog;
use super::outcome::VendError;
use super::vendor::Vendor;
use crate::auth::VerifiedCaller;
use crate::config::LedgerFailure;
use crate::identity::{OwnerKeys, PrincipalType, RequestId};
use crate::ledger::{Completed, LedgerError, NewSession, PendingSession, Recheck, SessionKind};
use crate::policy::{Grant, Policy, Rule};
use crate::sts::{AssumeRoleInput, Credentials};

/// The prefix of a temporary AWS access key id.
const TEMPORARY_KEY_PREFIX: &str = "ASIA";

/// What the pipeline knows of a vend when it opens its row.
pub(super) struct Opening<'a> {
    pub(super) id: &'a RequestId,
    pub(super) caller: &'a VerifiedCaller,
    pub(super) policy: &'a Policy,
    pub(super) grant: &'a Grant,
    pub(super) rule: Option<&'a Rule>,
    pub(super) kind: SessionKind,
    pub(super) grant_id: Option<&'a str>,
    pub(super) input: &'a AssumeRoleInput,
    pub(super) client: &'a str,
}

impl Vendor {
    /// Inserts the vend's `pending` row; `None` without a ledger, or under
    /// `ledger_failure: open` when the insert failed.
    pub(super) async fn open_session(
        &self,
        o: Opening<'_>,
    ) -> Result<Option<PendingSession>, VendError> {
        let Some(ledger) = &self.ledger else {
            return Ok(None);
        };
        let (row, recheck) = self.session_row(&o);
        match ledger.open(row, recheck, o.id).await {
            Ok(p) => Ok(Some(p)),
            Err(e) => self.ledger_failed(&e, "pending").map(|()| None),
        }
    }

    /// Completes the row once STS issued `credentials`: `Ok` hands them out.
    pub(super) async fn close_session(
        &self,
        pending: Option<&PendingSession>,
        credentials: &Credentials,
        log: &mut DecisionLog,
    ) -> Result<(), VendError> {
        let (Some(ledger), Some(pending)) = (&self.ledger, pending) else {
            return Ok(());
        };
        let expires = credentials.expiration.as_second();
        match ledger
            .complete(pending, &credentials.access_key_id, expires)
            .await
        {
            Ok(Completed::Issued) => Ok(()),
            Ok(Completed::Refused(why)) => {
                self.metrics.revocation.refusal(why.reason());
                log.reason = Some(why.reason());
                Err(VendError::Revoked(why.reason()))
            }
            Err(e) => self.ledger_failed(&e, "completion"),
        }
    }

    /// Marks the row `failed` after AssumeRole failed or answered unusable
    /// credentials.
    pub(super) async fn fail_session(&self, pending: Option<&PendingSession>) {
        if let (Some(ledger), Some(p)) = (&self.ledger, pending) {
            ledger.fail(p).await;
        }
    }

    /// A ledger write failed: 503 `ledger_error`, or on under `open`.
    fn ledger_failed(&self, e: &LedgerError, step: &'static str) -> Result<(), VendError> {
        match self.ledger.as_ref().map(|l| l.failure()) {
            Some(LedgerFailure::Open) => {
                tracing::warn!(error = %e, step, "ledger unavailable: vend served without its ledger row (database.ledger_failure: open)");
                Ok(())
            }
            _ => {
                tracing::warn!(error = %e, step, "ledger unavailable: vend refused");
                Err(VendError::Ledger)
            }
        }
    }

    /// The row and its re-check, from what the pipeline verified and built.
    fn session_row(&self, o: &Opening<'_>) -> (NewSession, Recheck) {
        let identity = o.caller.identity();
        let arn = identity.arn();
        let user_id = o.caller.user_id();
        let keys = OwnerKeys::of(arn, user_id, o.policy.sso_accounts());
        let now = self.clock.now().as_second();
        let caller_key = o.caller.access_key_id().to_owned();
        let iam_user = (arn.principal_type() == PrincipalType::User
            && caller_key.starts_with(TEMPORARY_KEY_PREFIX))
        .then(|| keys.exact.clone());
        let recheck = Recheck {
            caller_key: caller_key.clone(),
            // Every key a suspension may be stored under, the ARN keys of a
            // `Principal` target included (as the block set checks).
            identity_keys: crate::revocation::subject_keys(
                identity,
                user_id,
                o.policy.sso_accounts(),
            ),
            iam_user,
            grant: (o.kind == SessionKind::Approval)
                .then(|| o.grant_id.map(str::to_owned))
                .flatten(),
            owner: Some(keys.clone()),
        };
        let row = NewSession {
            request_id: o.id.to_string(),
            created_at: now,
            expires_at: now + i64::from(o.grant.duration_seconds),
            caller_arn: arn.to_string(),
            caller_user_id: user_id.to_owned(),
            caller_account: identity.account().to_string(),
            caller_role_id: arn
                .role_name()
                .and_then(|_| crate::identity::role_id_of(user_id))
                .map(str::to_owned),
            sso_person: keys
                .sso
                .as_ref()
                .and(arn.session_name())
                .map(str::to_lowercase),
            caller_access_key_id: caller_key,
            client_address: o.client.to_owned(),
            username: identity.username().to_owned(),
            profile: o.grant.profile.name.clone(),
            role_arn: o.grant.profile.role_arn.clone(),
            rule_name: o.rule.map(|r| r.name().to_owned()),
            kind: o.kind,
            grant_id: o.grant_id.map(str::to_owned),
            source_identity: o.input.source_identity.to_string(),
            session_name: o.input.role_session_name.as_str().to_owned(),
        };
        (row, recheck)
    }
}

//! A request's life (DESIGN §12): created by a person under a
//! `require_approval` rule, listed and read by those who may see it, and
//! expired when no decision came in time (read as `expired` past
//! `ExpiresAt`, see `stored`); its audit trail read back.
//!
//! Invariants: a request is created only for a person whom the first
//! matching rule puts under `require_approval` (anything else: 403, so
//! nothing is enumerated); one person has at most
//! [`MAX_PENDING_PER_REQUESTER`] pending requests, counted and inserted as
//! one step; the request row, its audit row and its `request.created`
//! outbox rows are one transaction.

use sqlx::{Any, Row, Transaction};

use super::error::ApprovalError;
use super::notify::view_text;
use super::service::Approvals;
use super::stored::{fetch, load_view, view_of, Stored, REQUEST_COLUMNS};
use super::view::{RequestView, Status};
use super::webhook::WebhookText;
use super::{Actor, MAX_LISTED, MAX_PENDING_PER_REQUESTER, REQUEST_TTL_SECONDS};
use crate::audit::{self, AuditEvent};
use crate::database::{new_id, Backend};
use crate::identity::RequestId;
use crate::policy::{Effect, Outcome, Rule, VendKind, VendRequest, MAX_REASON_CHARS};

/// The body of `POST /requests`.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The profile.
    pub profile: String,
    /// The longest session wanted under the grant (default: the rule's default).
    pub duration_seconds: Option<u32>,
    /// Why (1..=1000 characters).
    pub reason: String,
}

impl Approvals {
    /// `POST /requests`.
    pub async fn create(
        &self,
        actor: &Actor,
        input: NewRequest,
        http: &RequestId,
    ) -> Result<RequestView, ApprovalError> {
        let chars = input.reason.chars().count();
        if chars == 0 || chars > MAX_REASON_CHARS as usize {
            return Err(ApprovalError::Invalid(
                "reason must be 1 to 1000 characters",
            ));
        }
        if !actor.is_person() {
            return Err(ApprovalError::Denied);
        }
        let policy = self.policy.current();
        let request = VendRequest {
            profile: &input.profile,
            duration_seconds: input.duration_seconds,
            kind: VendKind::Approval,
        };
        let decision = policy.evaluate_identity(actor.identity(), &request, self.clock.now());
        let rule = decision
            .rule
            .as_ref()
            .and_then(|m| policy.rule(m.index))
            .filter(|r| r.effect() == Effect::RequireApproval);
        let (rule, spec) = match (rule, rule.and_then(Rule::approval)) {
            (Some(r), Some(s)) => (r, s),
            _ => return Err(ApprovalError::Denied),
        };
        let duration = match decision.outcome {
            Outcome::Allow(g) => g.duration_seconds,
            Outcome::InvalidDuration {
                min_seconds,
                max_seconds,
                ..
            } => {
                return Err(ApprovalError::Duration(format!(
                "duration_seconds must be between {min_seconds} and {max_seconds} for this profile"
            )))
            }
            _ => return Err(ApprovalError::Denied),
        };
        let now = self.now();
        let id = new_id();
        let mut tx = self.db.begin().await.map_err(|e| self.db_err(e))?;
        let pending = self
            .pending_of_person(&mut tx, actor, now)
            .await
            .map_err(|e| self.db_err(e))?;
        if pending >= MAX_PENDING_PER_REQUESTER {
            return Err(ApprovalError::TooMany);
        }
        sqlx::query(
            "INSERT INTO approval_requests (id, status, profile, rule_name, rule_digest, \
             approvals_needed, grant_seconds, requester_arn, requester_user_id, \
             requester_canonical, requester_username, reason, duration_seconds, created_at, \
             expires_at, grant_expires_at, version) \
             VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, 0)",
        )
        .bind(&id)
        .bind(&input.profile)
        .bind(rule.name())
        .bind(rule.digest())
        .bind(i64::from(spec.approvals_needed))
        .bind(i64::from(spec.grant_duration_seconds))
        .bind(actor.arn())
        .bind(actor.user_id())
        .bind(actor.canonical())
        .bind(actor.username())
        .bind(&input.reason)
        .bind(i64::from(duration))
        .bind(now)
        .bind(now + REQUEST_TTL_SECONDS)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?;
        let keys = self.keys_of(actor.arn(), actor.user_id());
        let logged = audit::record_event(
            &mut tx,
            AuditEvent::new("created", now, http)
                .actor(actor.arn(), keys.clone())
                .subject(&id, keys)
                .profile(&input.profile)
                .detail(&input.reason),
        )
        .await
        .map_err(|e| self.db_err(e))?;
        let view = load_view(&mut tx, &id, now)
            .await
            .map_err(|e| self.db_err(e))?;
        self.webhooks
            .enqueue(
                &mut tx,
                "request.created",
                &view_text(WebhookText::new(), "requested", &view),
                &view,
                now,
            )
            .await
            .map_err(|e| self.db_err(e))?;
        tx.commit().await.map_err(|e| self.db_err(e))?;
        logged.emit();
        self.metrics.approval_outcome("created");
        Ok(view)
    }

    /// How many live pending requests the *person* `actor` has: requests whose
    /// requester has the same [`super::person_key`] (username lowercased,
    /// `@domain` removed), so one person's IAM user and Identity Center
    /// sessions share the cap of [`MAX_PENDING_PER_REQUESTER`].
    ///
    /// This is the username half of the same-person rule only. The other
    /// half, an equal canonical principal, is right for refusing
    /// self-approval but would make every session of one Identity Center
    /// permission set (one role ARN) a single requester here, so one user
    /// could fill the cap and lock out all their colleagues. Two identities
    /// with one canonical principal and different usernames are different
    /// people for the cap; an IAM user's canonical principal implies its
    /// username, so nothing else is lost.
    ///
    /// Counting and the insert that follows are one step per person: on
    /// Postgres this takes a transaction-scoped advisory lock on the person
    /// key, so two creates of one person at once — from two of their
    /// identities, two replicas or two pooled connections — never both count
    /// 4 and leave 6. SQLite needs none: its single pooled connection runs one
    /// transaction at a time.
    async fn pending_of_person(
        &self,
        tx: &mut Transaction<'static, Any>,
        actor: &Actor,
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        let person = super::person_key(actor.username());
        if self.db.backend == Backend::Postgres {
            sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                .bind(lock_key("person", &person))
                .execute(&mut **tx)
                .await?;
        }
        let rows = sqlx::query(
            "SELECT requester_username FROM approval_requests \
             WHERE status = 'pending' AND expires_at > $1",
        )
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        let mut count = 0;
        for row in &rows {
            let username: String = row.try_get(0)?;
            if super::person_key(&username) == person {
                count += 1;
            }
        }
        Ok(count)
    }

    /// `GET /requests[?status=…]`: the requests `actor` may approve, plus their
    /// own, newest first.
    pub async fn list_visible(
        &self,
        actor: &Actor,
        status: Option<Status>,
    ) -> Result<Vec<RequestView>, ApprovalError> {
        let policy = self.policy.current();
        let now = self.now();
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM approval_requests \
             WHERE requester_arn = $1 OR status = 'pending' ORDER BY created_at DESC LIMIT $2"
        ))
        .bind(actor.arn())
        .bind(MAX_LISTED)
        .fetch_all(&self.db.pool)
        .await
        .map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        let mut conn = self.db.pool.acquire().await.map_err(|e| self.db_err(e))?;
        for row in rows {
            let req = Stored::from_row(&row).map_err(|e| self.db_err(e))?;
            if !self.may_see(&policy, actor, &req) {
                continue;
            }
            if status.is_some_and(|s| s != req.status_at(now)) {
                continue;
            }
            out.push(
                view_of(&mut conn, req, now)
                    .await
                    .map_err(|e| self.db_err(e))?,
            );
        }
        Ok(out)
    }

    /// `GET /requests/{id}`: to its requester or an eligible approver only.
    pub async fn get(&self, actor: &Actor, id: &str) -> Result<RequestView, ApprovalError> {
        let policy = self.policy.current();
        let mut conn = self.db.pool.acquire().await.map_err(|e| self.db_err(e))?;
        let req = fetch(&mut conn, id)
            .await
            .map_err(|e| self.db_err(e))?
            .filter(|r| self.may_see(&policy, actor, r))
            .ok_or(ApprovalError::NotFound)?;
        view_of(&mut conn, req, self.now())
            .await
            .map_err(|e| self.db_err(e))
    }

    /// The audit trail of a request or record in the order it was written
    /// (the monotonic `seq`, so rows of one second keep their order): (action,
    /// actor ARN, HTTP request id, unix seconds).
    pub async fn audit_trail(
        &self,
        subject: &str,
    ) -> Result<Vec<audit::TrailEntry>, ApprovalError> {
        audit::trail(&self.db.pool, subject)
            .await
            .map_err(|e| self.db_err(e))
    }
}

/// A Postgres advisory-lock key for one same-person key: the first 8 bytes of
/// SHA-256 over a domain tag and the value (64 bits, so unrelated people
/// practically never share a lock).
fn lock_key(kind: &str, value: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::new()
        .chain_update(b"tvm-pending-cap\0")
        .chain_update(kind.as_bytes())
        .chain_update(b"\0")
        .chain_update(value.as_bytes())
        .finalize();
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

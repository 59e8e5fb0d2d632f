//! The approvals service: the operations of DESIGN §12, callable with any
//! [`Actor`] (a verified token this request, or a UI session).

use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::db::{Backend, Database, DbError};
use super::view::{rfc3339, ApprovalView, RequestView, Status};
use super::webhook::{WebhookText, Webhooks};
use super::{
    is_id, new_id, Actor, MAX_COMMENT_CHARS, MAX_LISTED, MAX_PENDING_PER_REQUESTER,
    REQUEST_TTL_SECONDS,
};
use crate::clock::Clock;
use crate::identity::RequestId;
use crate::metrics::Metrics;
use crate::policy::{Effect, Outcome, Policy, Rule, VendKind, VendRequest, MAX_REASON_CHARS};
use crate::reload::PolicyStore;

/// Why an approvals operation failed; mapped to API codes by `http`.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// 400 `INVALID_REQUEST`.
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    /// 400 `INVALID_DURATION`.
    #[error("invalid duration: {0}")]
    Duration(String),
    /// 403 `POLICY_DENY` (not a person, not eligible, someone else's grant).
    #[error("denied")]
    Denied,
    /// 403 `APPROVAL_REQUIRED` (grant used up, rule changed).
    #[error("approval required")]
    ApprovalRequired,
    /// 404 `NOT_FOUND` (missing or not visible: the same).
    #[error("not found")]
    NotFound,
    /// 409 `CONFLICT` (no longer pending).
    #[error("conflict: no longer pending")]
    Conflict,
    /// 429 `RATE_LIMITED` (too many pending requests).
    #[error("too many pending requests")]
    TooMany,
    /// 503 `UNAVAILABLE`: the database failed (logged, counted).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<DbError> for ApprovalError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sql(e) => ApprovalError::Database(e),
            other => ApprovalError::Database(sqlx::Error::Protocol(other.to_string())),
        }
    }
}

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

/// A grant a vend may use now.
#[derive(Debug, Clone)]
pub struct LiveGrant {
    /// The request id (16 hex).
    pub id: String,
    /// The session length to vend.
    pub duration_seconds: u32,
}

/// The service. Cheap to clone.
#[derive(Clone)]
pub struct Approvals {
    pub(super) db: Database,
    pub(super) policy: Arc<PolicyStore>,
    clock: Arc<dyn Clock>,
    pub(super) metrics: Metrics,
    pub(super) webhooks: Arc<Webhooks>,
}

const REQUEST_COLUMNS: &str = "id, status, profile, rule_name, rule_digest, approvals_needed, \
     grant_seconds, requester_arn, requester_user_id, requester_canonical, requester_username, \
     reason, duration_seconds, created_at, expires_at, grant_expires_at";

/// One row of `approval_requests`.
pub(super) struct Stored {
    pub(super) id: String,
    pub(super) status: String,
    pub(super) profile: String,
    pub(super) rule_name: String,
    pub(super) rule_digest: String,
    pub(super) approvals_needed: i64,
    pub(super) grant_seconds: i64,
    pub(super) requester_arn: String,
    pub(super) requester_user_id: String,
    pub(super) requester_canonical: String,
    pub(super) requester_username: String,
    pub(super) reason: String,
    pub(super) duration_seconds: i64,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
    pub(super) grant_expires_at: Option<i64>,
}

impl Stored {
    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            status: r.try_get(1)?,
            profile: r.try_get(2)?,
            rule_name: r.try_get(3)?,
            rule_digest: r.try_get(4)?,
            approvals_needed: r.try_get(5)?,
            grant_seconds: r.try_get(6)?,
            requester_arn: r.try_get(7)?,
            requester_user_id: r.try_get(8)?,
            requester_canonical: r.try_get(9)?,
            requester_username: r.try_get(10)?,
            reason: r.try_get(11)?,
            duration_seconds: r.try_get(12)?,
            created_at: r.try_get(13)?,
            expires_at: r.try_get(14)?,
            grant_expires_at: r.try_get(15)?,
        })
    }

    /// The status as of `now` (a pending request past `expires_at` is expired).
    pub(super) fn status_at(&self, now: i64) -> Status {
        match Status::parse(&self.status) {
            Some(Status::Pending) if now >= self.expires_at => Status::Expired,
            Some(s) => s,
            None => Status::Expired,
        }
    }
}

impl Approvals {
    /// Assembles the service over an opened database.
    pub fn new(
        db: Database,
        policy: Arc<PolicyStore>,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
        webhooks: Vec<super::WebhookTarget>,
    ) -> Self {
        Self {
            db,
            policy,
            clock,
            metrics,
            webhooks: Arc::new(Webhooks::new(webhooks)),
        }
    }

    /// The database (the UI adds its own tables to it).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The clock (for the deliverer).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The webhook targets (for the deliverer).
    pub(crate) fn webhooks(&self) -> &Arc<Webhooks> {
        &self.webhooks
    }

    pub(super) fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    pub(super) fn db_err(&self, e: sqlx::Error) -> ApprovalError {
        self.metrics.database_error();
        tracing::error!(error = %e, "approvals database error");
        ApprovalError::Database(e)
    }

    /// Whether any rule's approvers match `actor` (who may use the web page).
    pub fn is_approver(&self, actor: &Actor) -> bool {
        actor.is_person()
            && self
                .policy
                .current()
                .rules()
                .iter()
                .filter_map(Rule::approval)
                .any(|a| a.approvers.matches(actor.identity()))
    }

    /// Whether `actor` matches the approvers of `req`'s rule in the policy
    /// being served (and is a person).
    fn is_listed_approver(&self, policy: &Policy, actor: &Actor, req: &Stored) -> bool {
        actor.is_person()
            && policy
                .rules()
                .iter()
                .find(|r| r.name() == req.rule_name && r.effect() == Effect::RequireApproval)
                .and_then(Rule::approval)
                .is_some_and(|a| a.approvers.matches(actor.identity()))
    }

    /// Whether `actor` may approve `req`: a listed approver who is not the
    /// requester (neither the same principal nor the same person).
    fn may_approve(&self, policy: &Policy, actor: &Actor, req: &Stored) -> bool {
        self.is_listed_approver(policy, actor, req)
            && !actor.same_person(&req.requester_canonical, &req.requester_username)
    }

    /// Whether `actor` may see `req` at all (others get 404, as for a
    /// missing request).
    fn may_see(&self, policy: &Policy, actor: &Actor, req: &Stored) -> bool {
        actor.arn() == req.requester_arn || self.is_listed_approver(policy, actor, req)
    }

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
        let mut tx = self.db.pool.begin().await.map_err(|e| self.db_err(e))?;
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
        audit(
            &mut tx,
            &id,
            "created",
            actor.arn(),
            &input.profile,
            http,
            now,
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

    /// `POST /requests/{id}/approve`.
    pub async fn approve(
        &self,
        actor: &Actor,
        id: &str,
        comment: &str,
        http: &RequestId,
    ) -> Result<RequestView, ApprovalError> {
        self.decide(actor, id, comment, http, true).await
    }

    /// `POST /requests/{id}/deny`.
    pub async fn deny(
        &self,
        actor: &Actor,
        id: &str,
        comment: &str,
        http: &RequestId,
    ) -> Result<RequestView, ApprovalError> {
        self.decide(actor, id, comment, http, false).await
    }

    async fn decide(
        &self,
        actor: &Actor,
        id: &str,
        comment: &str,
        http: &RequestId,
        approve: bool,
    ) -> Result<RequestView, ApprovalError> {
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(ApprovalError::Invalid(
                "comment must be at most 1000 characters",
            ));
        }
        let policy = self.policy.current();
        let now = self.now();
        let mut tx = self.db.pool.begin().await.map_err(|e| self.db_err(e))?;
        let req = fetch(&mut tx, id)
            .await
            .map_err(|e| self.db_err(e))?
            .filter(|r| self.may_see(&policy, actor, r))
            .ok_or(ApprovalError::NotFound)?;
        if !self.may_approve(&policy, actor, &req) {
            return Err(ApprovalError::Denied);
        }
        // Taken first: the row lock (Postgres) or the write lock (SQLite)
        // serialises concurrent deciders; the loser sees no pending row.
        let locked = sqlx::query(
            "UPDATE approval_requests SET version = version + 1 \
             WHERE id = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db_err(e))?;
        if locked.rows_affected() != 1 {
            self.metrics.approval_outcome("conflict");
            return Err(ApprovalError::Conflict);
        }
        let (action, event) = if approve {
            let prior = sqlx::query(
                "SELECT approver_canonical, approver_username FROM approval_approvals \
                 WHERE request_id = $1",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.db_err(e))?;
            let mut count = 0i64;
            let mut already = false;
            for row in &prior {
                let (c, u): (String, String) = (
                    row.try_get(0).map_err(|e| self.db_err(e))?,
                    row.try_get(1).map_err(|e| self.db_err(e))?,
                );
                already |= actor.same_person(&c, &u);
                count += 1;
            }
            if !already {
                sqlx::query(
                    "INSERT INTO approval_approvals (request_id, approver_arn, \
                     approver_canonical, approver_username, comment, at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(actor.arn())
                .bind(actor.canonical())
                .bind(actor.username())
                .bind(comment)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db_err(e))?;
                count += 1;
            }
            if count >= req.approvals_needed {
                sqlx::query(
                    "UPDATE approval_requests SET status = 'approved', grant_expires_at = $2 \
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(now + req.grant_seconds)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db_err(e))?;
                ("approved", Some("request.approved"))
            } else {
                ("approval_added", None)
            }
        } else {
            sqlx::query(
                "UPDATE approval_requests SET status = 'denied' WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db_err(e))?;
            ("denied", Some("request.denied"))
        };
        audit(&mut tx, id, action, actor.arn(), comment, http, now)
            .await
            .map_err(|e| self.db_err(e))?;
        let view = load_view(&mut tx, id, now)
            .await
            .map_err(|e| self.db_err(e))?;
        if let Some(event) = event {
            let verb = if approve { " approved " } else { " denied " };
            let text = view_text(
                WebhookText::new().field(actor.arn()).word(verb),
                "request",
                &view,
            );
            self.webhooks
                .enqueue(&mut tx, event, &text, &view, now)
                .await
                .map_err(|e| self.db_err(e))?;
        }
        tx.commit().await.map_err(|e| self.db_err(e))?;
        self.metrics.approval_outcome(action);
        Ok(view)
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

/// `text` then "{requester} {verb} {profile} for {n}s: {reason} ({id})", every
/// stored value escaped as a field.
fn view_text(text: WebhookText, verb: &'static str, v: &RequestView) -> WebhookText {
    text.field(&v.requester)
        .word(" ")
        .word(verb)
        .word(" ")
        .field(&v.profile)
        .word(" for ")
        .field(&v.duration_seconds.to_string())
        .word("s: ")
        .field(&v.reason)
        .word(" (")
        .field(&v.id)
        .word(")")
}

pub(super) async fn fetch(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<Stored>, sqlx::Error> {
    if !is_id(id) {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(Stored::from_row).transpose()
}

async fn view_of(
    conn: &mut sqlx::AnyConnection,
    req: Stored,
    now: i64,
) -> Result<RequestView, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT approver_arn, comment, at FROM approval_approvals WHERE request_id = $1 ORDER BY at",
    )
    .bind(&req.id)
    .fetch_all(&mut *conn)
    .await?;
    let approvals = rows
        .iter()
        .map(|r| {
            Ok(ApprovalView {
                approver: r.try_get(0)?,
                comment: r.try_get(1)?,
                at: rfc3339(r.try_get(2)?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(RequestView {
        status: req.status_at(now).as_str(),
        id: req.id,
        profile: req.profile,
        requester: req.requester_arn,
        reason: req.reason,
        duration_seconds: u32::try_from(req.duration_seconds).unwrap_or(0),
        created_at: rfc3339(req.created_at),
        expires_at: rfc3339(req.expires_at),
        approvals,
        grant_expires_at: req.grant_expires_at.map(rfc3339),
    })
}

async fn load_view(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    now: i64,
) -> Result<RequestView, sqlx::Error> {
    let req = fetch(tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    view_of(tx, req, now).await
}

/// One append-only audit row.
pub(super) async fn audit(
    tx: &mut Transaction<'static, Any>,
    subject: &str,
    action: &str,
    actor: &str,
    detail: &str,
    http: &RequestId,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO approval_audit (id, subject_id, action, actor_arn, detail, \
         http_request_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(subject)
    .bind(action)
    .bind(actor)
    .bind(detail)
    .bind(http.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

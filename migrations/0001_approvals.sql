-- Approvals and break-glass (DESIGN §12). Portable SQL: runs unchanged on
-- SQLite and Postgres. Times are unix seconds (BIGINT).

CREATE TABLE approval_requests (
    id                  TEXT PRIMARY KEY,
    status              TEXT NOT NULL,
    profile             TEXT NOT NULL,
    rule_name           TEXT NOT NULL,
    rule_digest         TEXT NOT NULL,
    approvals_needed    BIGINT NOT NULL,
    grant_seconds       BIGINT NOT NULL,
    requester_arn       TEXT NOT NULL,
    requester_user_id   TEXT NOT NULL,
    requester_canonical TEXT NOT NULL,
    requester_username  TEXT NOT NULL,
    reason              TEXT NOT NULL,
    duration_seconds    BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    grant_expires_at    BIGINT,
    version             BIGINT NOT NULL
);
CREATE INDEX approval_requests_status ON approval_requests (status, expires_at);
CREATE INDEX approval_requests_requester ON approval_requests (requester_arn, status);

CREATE TABLE approval_approvals (
    request_id         TEXT NOT NULL REFERENCES approval_requests (id),
    approver_arn       TEXT NOT NULL,
    approver_canonical TEXT NOT NULL,
    approver_username  TEXT NOT NULL,
    comment            TEXT NOT NULL,
    at                 BIGINT NOT NULL,
    PRIMARY KEY (request_id, approver_canonical, approver_username)
);

CREATE TABLE break_glass_records (
    id                TEXT PRIMARY KEY,
    profile           TEXT NOT NULL,
    rule_name         TEXT NOT NULL,
    caller_arn        TEXT NOT NULL,
    caller_user_id    TEXT NOT NULL,
    reason            TEXT NOT NULL,
    duration_seconds  BIGINT NOT NULL,
    http_request_id   TEXT NOT NULL,
    at                BIGINT NOT NULL
);

-- The vends made under a grant or a break-glass record (source identity and
-- the HTTP request id that appears in CloudTrail).
CREATE TABLE grant_vends (
    grant_id         TEXT NOT NULL,
    http_request_id  TEXT NOT NULL,
    source_identity  TEXT NOT NULL,
    duration_seconds BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    PRIMARY KEY (grant_id, http_request_id)
);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE approval_audit (
    id              TEXT PRIMARY KEY,
    subject_id      TEXT NOT NULL,
    action          TEXT NOT NULL,
    actor_arn       TEXT NOT NULL,
    detail          TEXT NOT NULL,
    http_request_id TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX approval_audit_subject ON approval_audit (subject_id, at);

-- Webhook outbox: one row per (event, subscribed webhook), written in the
-- transaction of the change. `webhook` is a digest of the URL (URLs are secrets).
CREATE TABLE webhook_outbox (
    event_id        TEXT NOT NULL,
    webhook         TEXT NOT NULL,
    event           TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    PRIMARY KEY (event_id, webhook)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (delivered_at, next_attempt_at);

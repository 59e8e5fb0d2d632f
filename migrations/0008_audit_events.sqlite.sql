-- The audit trail of DESIGN §13: one `audit_events` table with a
-- backend-assigned `seq` (SQLite: INTEGER PRIMARY KEY AUTOINCREMENT never
-- reuses a value), replacing §12's `approval_audit`, whose rows move here
-- with their `seq` kept (so their order, and the sequence, continue).
-- Postgres runs 0008_audit_events.postgres.sql instead.
--
-- Visibility ("one's own", DESIGN §13) is decided by identity keys
-- (crate::identity::OwnerKeys), computed when the event is written:
-- `actor_key`/`subject_key` the exact key ("{arn} {user_id}"), `actor_sso`/
-- `subject_sso` the Identity Center person key when there is one. Empty
-- (moved rows, events without a person) means: admins only.
CREATE TABLE audit_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    at              BIGINT NOT NULL,
    event           TEXT NOT NULL,
    actor           TEXT NOT NULL,
    actor_key       TEXT NOT NULL,
    actor_sso       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    subject_key     TEXT NOT NULL,
    subject_sso     TEXT NOT NULL,
    profile         TEXT NOT NULL,
    source_identity TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    detail          TEXT NOT NULL
);
INSERT INTO audit_events (seq, id, at, event, actor, actor_key, actor_sso, subject,
        subject_key, subject_sso, profile, source_identity, request_id, detail)
    SELECT seq, id, at, action, actor_arn, '', '', subject_id, '', '', '', '',
        http_request_id, detail
    FROM approval_audit ORDER BY seq;
DROP TABLE approval_audit;
CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor_key, seq);
CREATE INDEX audit_events_actor_sso ON audit_events (actor_sso, seq);
CREATE INDEX audit_events_subject_key ON audit_events (subject_key, seq);
CREATE INDEX audit_events_subject_sso ON audit_events (subject_sso, seq);

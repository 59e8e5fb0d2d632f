-- The audit trail of DESIGN §13: one `audit_events` table with a
-- backend-assigned `seq` (an identity column), replacing §12's
-- `approval_audit`, whose rows move here with their `seq` kept; the identity
-- continues after them. SQLite runs 0008_audit_events.sqlite.sql instead
-- (read its header for the visibility columns).
CREATE TABLE audit_events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    OVERRIDING SYSTEM VALUE
    SELECT seq, id, at, action, actor_arn, '', '', subject_id, '', '', '', '',
        http_request_id, detail
    FROM approval_audit ORDER BY seq;
SELECT setval(pg_get_serial_sequence('audit_events', 'seq'), COALESCE(MAX(seq), 0) + 1, false)
    FROM audit_events;
DROP TABLE approval_audit;
CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor_key, seq);
CREATE INDEX audit_events_actor_sso ON audit_events (actor_sso, seq);
CREATE INDEX audit_events_subject_key ON audit_events (subject_key, seq);
CREATE INDEX audit_events_subject_sso ON audit_events (subject_sso, seq);

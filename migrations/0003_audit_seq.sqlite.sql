-- Audit rows in the order they were written (issue #18): a monotonic `seq`
-- (SQLite: INTEGER PRIMARY KEY AUTOINCREMENT never reuses a value). SQLite
-- cannot add such a column to a table, so the table is rebuilt; rows already
-- there keep their old order (second, then id). Postgres runs
-- 0003_audit_seq.postgres.sql instead.

CREATE TABLE approval_audit_seq (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    subject_id      TEXT NOT NULL,
    action          TEXT NOT NULL,
    actor_arn       TEXT NOT NULL,
    detail          TEXT NOT NULL,
    http_request_id TEXT NOT NULL,
    at              BIGINT NOT NULL
);
INSERT INTO approval_audit_seq (id, subject_id, action, actor_arn, detail, http_request_id, at)
    SELECT id, subject_id, action, actor_arn, detail, http_request_id, at
    FROM approval_audit ORDER BY at, id;
DROP TABLE approval_audit;
ALTER TABLE approval_audit_seq RENAME TO approval_audit;
CREATE INDEX approval_audit_subject ON approval_audit (subject_id, seq);

-- Audit rows in the order they were written (issue #18): a monotonic `seq`
-- from an identity column. Rows already there are numbered in their old
-- order (second, then id) and the identity continues after them. SQLite runs
-- 0003_audit_seq.sqlite.sql instead.

ALTER TABLE approval_audit ADD COLUMN seq BIGINT;
UPDATE approval_audit AS a SET seq = o.n
    FROM (SELECT id, row_number() OVER (ORDER BY at, id) AS n FROM approval_audit) AS o
    WHERE a.id = o.id;
ALTER TABLE approval_audit ALTER COLUMN seq SET NOT NULL;
ALTER TABLE approval_audit ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('approval_audit', 'seq'), COALESCE(MAX(seq), 0) + 1, false)
    FROM approval_audit;
CREATE UNIQUE INDEX approval_audit_seq ON approval_audit (seq);
DROP INDEX approval_audit_subject;
CREATE INDEX approval_audit_subject ON approval_audit (subject_id, seq);

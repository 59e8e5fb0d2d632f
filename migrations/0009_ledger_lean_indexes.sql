-- Leaner ledger indexes (DESIGN §13's throughput: every vend inserts a row and
-- completes it, and each index is one more b-tree write per step). Portable
-- SQL: runs unchanged on SQLite and Postgres.
--
-- * The per-caller indexes end in `created_at`, which never changes, instead
--   of `expires_at`, which the completion sets: completing a row no longer
--   rewrites them. Listings order by `created_at` and filter the live ones
--   from that caller's rows.
-- * Indexes over a column most rows leave NULL (an Identity Center person, a
--   role id, a grant, a revocation) are partial: a direct vend by an IAM user
--   writes none of them. A query names the column with `=` (or `IS NOT NULL`),
--   which is what lets both backends use a partial index.
-- * `sessions_request` served no query.
DROP INDEX sessions_caller;
DROP INDEX sessions_sso_person;
DROP INDEX sessions_role;
DROP INDEX sessions_caller_key;
DROP INDEX sessions_grant;
DROP INDEX sessions_request;
DROP INDEX sessions_role_arn;
CREATE INDEX sessions_caller ON sessions (caller_arn, caller_user_id, created_at);
CREATE INDEX sessions_caller_key ON sessions (caller_access_key_id, created_at);
CREATE INDEX sessions_sso_person ON sessions (sso_person, created_at) WHERE sso_person IS NOT NULL;
CREATE INDEX sessions_role ON sessions (caller_role_id, created_at) WHERE caller_role_id IS NOT NULL;
CREATE INDEX sessions_grant ON sessions (grant_id, created_at) WHERE grant_id IS NOT NULL;
CREATE INDEX sessions_revoked_role ON sessions (role_arn, expires_at) WHERE revocation_id IS NOT NULL;
CREATE INDEX sessions_revocation ON sessions (revocation_id) WHERE revocation_id IS NOT NULL;

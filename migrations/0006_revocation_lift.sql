-- Revocation (DESIGN §13), beside 0004's tables. Portable SQL.

-- Which blocks a lift ends: only a suspension (`identity`) or a key block a
-- `credentials` revocation named (the key and its IAM user). The vended keys
-- of revoked sessions and the caller keys a `person` revocation collected
-- stay blocked (`liftable` = 0) until they expire.
ALTER TABLE revocation_blocks ADD COLUMN liftable BIGINT NOT NULL DEFAULT 0;

-- The caller access key a web-page sign-in was proven with, so a blocked
-- (leaked) caller key ends the page sessions it opened too.
ALTER TABLE ui_login_codes ADD COLUMN caller_access_key_id TEXT;
ALTER TABLE ui_sessions ADD COLUMN caller_access_key_id TEXT;

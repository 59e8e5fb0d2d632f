-- The approvers' web page (DESIGN §12): one-time sign-in codes and sessions,
-- shared by every replica. Only SHA-256 digests of the secrets are stored.
-- Portable SQL (SQLite and Postgres); times are unix seconds.

CREATE TABLE ui_login_codes (
    code_digest TEXT PRIMARY KEY,
    arn         TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    next_path   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX ui_login_codes_expiry ON ui_login_codes (expires_at);

CREATE TABLE ui_sessions (
    session_digest TEXT PRIMARY KEY,
    arn            TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at);

-- Sessions, revocation (DESIGN §13). Portable SQL: runs unchanged on SQLite
-- and Postgres. Times are unix seconds (BIGINT). The audit events have their
-- own migration (per backend, for the sequence column).

-- The ledger: one row per vend of any kind, inserted `pending` before
-- AssumeRole and completed (`issued`) or marked `failed` after it. The
-- session Id of the API is `access_key_id` (unique; request ids are not over
-- 90 days), NULL until the credentials exist. `expires_at` is the planned
-- end while pending, STS's Expiration once issued.
CREATE TABLE sessions (
    row_id               TEXT PRIMARY KEY,
    access_key_id        TEXT UNIQUE,
    state                TEXT NOT NULL,
    request_id           TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    caller_arn           TEXT NOT NULL,
    caller_user_id       TEXT NOT NULL,
    caller_account       TEXT NOT NULL,
    -- The role id (the `AROA…` part of the UserId) of a role-session caller.
    caller_role_id       TEXT,
    -- The session name, lowercased, of an `AWSReservedSSO_*` role session.
    sso_person           TEXT,
    caller_access_key_id TEXT NOT NULL,
    client_address       TEXT NOT NULL,
    username             TEXT NOT NULL,
    profile              TEXT NOT NULL,
    role_arn             TEXT NOT NULL,
    rule_name            TEXT,
    kind                 TEXT NOT NULL,
    grant_id             TEXT,
    source_identity      TEXT NOT NULL,
    session_name         TEXT NOT NULL,
    revocation_id        TEXT,
    revoked_at           BIGINT
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_created ON sessions (created_at);
CREATE INDEX sessions_caller ON sessions (caller_arn, caller_user_id, expires_at);
CREATE INDEX sessions_sso_person ON sessions (sso_person, expires_at);
CREATE INDEX sessions_role ON sessions (caller_role_id, expires_at);
CREATE INDEX sessions_caller_key ON sessions (caller_access_key_id, expires_at);
CREATE INDEX sessions_grant ON sessions (grant_id, expires_at);
CREATE INDEX sessions_request ON sessions (request_id);
CREATE INDEX sessions_role_arn ON sessions (role_arn, revocation_id, expires_at);

-- A grant ended early (`status` = 'revoked') names its revocation.
ALTER TABLE approval_requests ADD COLUMN revocation_id TEXT;

-- One row per revocation (the API object of DESIGN §13). `target_type` is
-- one of SessionId, GrantId, CallerAccessKeyId, Principal, User.
-- `self_service` is 1 for a session or grant ended by its owner.
-- `suspended_until` (person): NULL with `suspends` = 1 means until lifted.
CREATE TABLE revocations (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    by_arn          TEXT NOT NULL,
    by_user_id      TEXT NOT NULL,
    self_service    BIGINT NOT NULL,
    suspends        BIGINT NOT NULL,
    suspended_until BIGINT,
    created_at      BIGINT NOT NULL,
    request_id      TEXT NOT NULL,
    lifted_at       BIGINT,
    lifted_by       TEXT,
    lift_reason     TEXT
);
CREATE INDEX revocations_created ON revocations (created_at);
CREATE INDEX revocations_by ON revocations (by_arn, by_user_id);

-- What a revocation blocks at tvm. `block_type`: `caller_key` (a caller
-- access key id), `iam_user` (every temporary key of an IAM user: value
-- "ARN UserId"), `identity` (a suspended identity: see revocation's identity
-- key). `expires_at` NULL: until lifted. A lift sets `lifted_at`.
CREATE TABLE revocation_blocks (
    revocation_id TEXT NOT NULL REFERENCES revocations (id),
    block_type    TEXT NOT NULL,
    value         TEXT NOT NULL,
    expires_at    BIGINT,
    lifted_at     BIGINT,
    PRIMARY KEY (revocation_id, block_type, value)
);
CREATE INDEX revocation_blocks_value ON revocation_blocks (block_type, value);

-- One row: bumped by every change to revocations or blocks; replicas poll it
-- every `revocation.refresh` and reload their blocks when it moves.
CREATE TABLE revocation_state (
    id      BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO revocation_state (id, version) VALUES (1, 0);

-- The per-role queue of the IAM side: a writer that changes which sessions
-- or grants of a role are revoked bumps `desired_version` (inserting the row
-- with status 'pending' if missing) in its own transaction; the applier
-- leases the role (`lease_owner`, `lease_until`), writes the derived inline
-- policy, and records `applied_version`, `status`, `error`, `policy`.
CREATE TABLE revocation_roles (
    role_arn        TEXT PRIMARY KEY,
    desired_version BIGINT NOT NULL,
    applied_version BIGINT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT,
    policy          TEXT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_write_at   BIGINT,
    checked_at      BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX revocation_roles_due ON revocation_roles (status, lease_until);

-- The ledger replaces grant_vends (DESIGN §13): the vends made under a grant
-- or a break-glass record move into `sessions` as `issued` rows, and the old
-- table goes. Portable SQL (SQLite and Postgres).
--
-- What grant_vends never held stays empty ('' or NULL): the caller's access
-- key id, client address, account, role and session name, and the vended
-- key itself (`access_key_id` NULL: such a row is listed with its grant but
-- is no session that can be revoked by its key). `expires_at` is the vend
-- time plus the duration asked for, `row_id` is `legacy-{grant}-{request}`.

INSERT INTO sessions (row_id, access_key_id, state, request_id, created_at, expires_at,
    caller_arn, caller_user_id, caller_account, caller_role_id, sso_person,
    caller_access_key_id, client_address, username, profile, role_arn, rule_name, kind,
    grant_id, source_identity, session_name)
SELECT 'legacy-' || v.grant_id || '-' || v.http_request_id, NULL, 'issued', v.http_request_id,
    v.at, v.at + v.duration_seconds, r.requester_arn, r.requester_user_id, '', NULL, NULL,
    '', '', r.requester_username, r.profile, '', r.rule_name, 'approval',
    v.grant_id, v.source_identity, ''
FROM grant_vends v JOIN approval_requests r ON r.id = v.grant_id;

INSERT INTO sessions (row_id, access_key_id, state, request_id, created_at, expires_at,
    caller_arn, caller_user_id, caller_account, caller_role_id, sso_person,
    caller_access_key_id, client_address, username, profile, role_arn, rule_name, kind,
    grant_id, source_identity, session_name)
SELECT 'legacy-' || v.grant_id || '-' || v.http_request_id, NULL, 'issued', v.http_request_id,
    v.at, v.at + v.duration_seconds, b.caller_arn, b.caller_user_id, '', NULL, NULL,
    '', '', '', b.profile, '', b.rule_name, 'break_glass',
    v.grant_id, v.source_identity, ''
FROM grant_vends v JOIN break_glass_records b ON b.id = v.grant_id;

DROP TABLE grant_vends;

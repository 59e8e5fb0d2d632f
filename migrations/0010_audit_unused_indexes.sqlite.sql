-- SQLite: drop the audit indexes no query uses. A reader's `GET /audit` page
-- (`… AND (actor_key = $5 OR subject_key = $5 OR actor_sso = $6 OR
-- subject_sso = $6) ORDER BY seq`) is planned by SQLite from the `at` range
-- (EXPLAIN QUERY PLAN never chose these four), so they only cost every
-- vend's audit row four more b-tree writes. Postgres keeps them (its planner
-- can combine them: 0010's Postgres file changes nothing).
DROP INDEX audit_events_actor;
DROP INDEX audit_events_actor_sso;
DROP INDEX audit_events_subject_key;
DROP INDEX audit_events_subject_sso;

-- The IAM side of revocation (DESIGN §13, "In AWS"). Portable SQL.
-- `next_expiry`: the earliest end among the values the role's document
-- holds (unix seconds); the role is due again then, to drop that value (or
-- delete the policy when none is left). NULL: no live value.
ALTER TABLE revocation_roles ADD COLUMN next_expiry BIGINT;

-- Postgres keeps the audit visibility indexes that SQLite's 0010 drops: its
-- planner can combine them (BitmapOr) for a reader's `GET /audit` page.
SELECT 1;

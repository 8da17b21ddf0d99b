-- Every sign-in writes its session row, and every second factor rewrites
-- it; an index on expires_at made each of those commits write more pages
-- (on SQLite, about a tenth of a second factor's cost) for the benefit of
-- a clean-up that runs every ten minutes and a metrics gauge. Both now scan
-- the table on a reader instead, which takes no write lock.
DROP INDEX IF EXISTS sessions_expires;

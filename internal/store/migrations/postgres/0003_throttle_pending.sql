-- A password attempt takes a place on its limits before the password is
-- checked. pending counts the places of attempts still being checked, so
-- that a window full of attempts in flight, right passwords among them,
-- is told apart from a window full of failures.
ALTER TABLE throttles ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;

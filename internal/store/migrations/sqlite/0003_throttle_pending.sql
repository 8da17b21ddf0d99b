-- A password attempt takes a place on its limits before the password is
-- checked. pending counts the places of attempts still being checked, so
-- that a window full of attempts in flight, right passwords among them,
-- is told apart from a window full of failures. window_gen numbers the
-- windows (a new one starts when the last has passed or a wait starts):
-- a place is given back or settled only in the window it was taken in.
ALTER TABLE throttles ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE throttles ADD COLUMN window_gen INTEGER NOT NULL DEFAULT 0;

-- A placement an admin set by hand: kept until they clear it, and the mappings pass it by.
ALTER TABLE users ADD COLUMN placement_manual INTEGER NOT NULL DEFAULT 0;

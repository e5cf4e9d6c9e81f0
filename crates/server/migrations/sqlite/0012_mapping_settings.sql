-- A mapping change that would move more of the customer's users than this to another storage
-- region asks the admin to type the customer's name first: region moves copy backups.
ALTER TABLE customers ADD COLUMN region_move_threshold INTEGER NOT NULL DEFAULT 100
    CHECK (region_move_threshold >= 0);

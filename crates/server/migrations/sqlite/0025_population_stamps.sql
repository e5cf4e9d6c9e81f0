-- Which of a customer's SCIM users changed since a population version: every change stamps the
-- user with the version it made, in the same transaction. The previews' cache then re-reads
-- only the users stamped after the version it holds (and drops those no longer live) instead
-- of decoding every user again after each change the identity provider makes.
-- Not a partial index: a partial one looks tiny to the planner's statistics before a customer
-- has SCIM users, and was then chosen for every per-customer SCIM lookup.
ALTER TABLE users ADD COLUMN population_stamp INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_population_stamp ON users (customer_id, population_stamp);

DROP TRIGGER population_on_user_insert;
CREATE TRIGGER population_on_user_insert AFTER INSERT ON users
WHEN NEW.scim_id IS NOT NULL
BEGIN
    UPDATE population_versions SET version = version + 1 WHERE customer_id = NEW.customer_id;
    UPDATE users SET population_stamp =
        (SELECT version FROM population_versions WHERE customer_id = NEW.customer_id)
    WHERE id = NEW.id;
END;

DROP TRIGGER population_on_user_change;
CREATE TRIGGER population_on_user_change AFTER UPDATE OF scim_id, scim_deleted,
    placement_manual, scim_attributes, custom_attribute_value, status, profile_id,
    storage_region_id, quota_gb, mapping_id, customer_id ON users
WHEN (NEW.scim_id IS NOT NULL OR OLD.scim_id IS NOT NULL)
    AND NOT (SELECT active FROM set_wise_writes)
BEGIN
    UPDATE population_versions SET version = version + 1 WHERE customer_id = NEW.customer_id;
    UPDATE users SET population_stamp =
        (SELECT version FROM population_versions WHERE customer_id = NEW.customer_id)
    WHERE id = NEW.id;
END;

DROP TRIGGER population_on_member_insert;
CREATE TRIGGER population_on_member_insert AFTER INSERT ON scim_group_members
BEGIN
    UPDATE population_versions SET version = version + 1
    WHERE customer_id = (SELECT customer_id FROM scim_groups WHERE id = NEW.group_id);
    UPDATE users SET population_stamp =
        (SELECT version FROM population_versions WHERE customer_id = users.customer_id)
    WHERE id = NEW.user_id;
END;

DROP TRIGGER population_on_member_delete;
CREATE TRIGGER population_on_member_delete AFTER DELETE ON scim_group_members
BEGIN
    UPDATE population_versions SET version = version + 1
    WHERE customer_id = (SELECT customer_id FROM scim_groups WHERE id = OLD.group_id);
    UPDATE users SET population_stamp =
        (SELECT version FROM population_versions WHERE customer_id = users.customer_id)
    WHERE id = OLD.user_id;
END;

DROP TRIGGER population_on_group_change;
CREATE TRIGGER population_on_group_change AFTER UPDATE OF scim_id ON scim_groups
BEGIN
    UPDATE population_versions SET version = version + 1 WHERE customer_id = NEW.customer_id;
    UPDATE users SET population_stamp =
        (SELECT version FROM population_versions WHERE customer_id = NEW.customer_id)
    WHERE id IN (SELECT user_id FROM scim_group_members WHERE group_id = NEW.id);
END;


-- A live user can leave a customer's population without a stamp (their row deleted, or moved
-- to another customer): the version that happened at is kept, and a cache older than it reads
-- everyone again.
ALTER TABLE population_versions ADD COLUMN departed INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER population_on_user_delete;
CREATE TRIGGER population_on_user_delete AFTER DELETE ON users
WHEN OLD.scim_id IS NOT NULL
BEGIN
    UPDATE population_versions SET version = version + 1, departed = version + 1
    WHERE customer_id = OLD.customer_id;
END;

DROP TRIGGER population_on_user_move;
CREATE TRIGGER population_on_user_move AFTER UPDATE OF customer_id ON users
WHEN OLD.scim_id IS NOT NULL AND OLD.customer_id <> NEW.customer_id
BEGIN
    UPDATE population_versions SET version = version + 1, departed = version + 1
    WHERE customer_id = OLD.customer_id;
END;

-- A number per customer that changes, in the same transaction, whenever anything the mappings
-- decide on changes for one of its SCIM users: their attributes, placement, status, or group
-- memberships. The mapping editor's previews keep a customer's users decoded in memory while
-- this number stays the same. Each trigger is one update of one row by its key: a
-- re-evaluation writing 100,000 users pays next to nothing for it.
CREATE TABLE population_versions (
    customer_id INTEGER PRIMARY KEY,
    version     INTEGER NOT NULL
);

INSERT INTO population_versions (customer_id, version) SELECT id, 0 FROM customers;

CREATE TRIGGER population_for_new_customer AFTER INSERT ON customers
BEGIN
    INSERT INTO population_versions (customer_id, version) VALUES (NEW.id, 0);
END;

CREATE TRIGGER population_on_user_insert AFTER INSERT ON users
WHEN NEW.scim_id IS NOT NULL
BEGIN
    UPDATE population_versions SET version = version + 1 WHERE customer_id = NEW.customer_id;
END;

CREATE TRIGGER population_on_user_delete AFTER DELETE ON users
WHEN OLD.scim_id IS NOT NULL
BEGIN
    UPDATE population_versions SET version = version + 1 WHERE customer_id = OLD.customer_id;
END;

CREATE TRIGGER population_on_user_change AFTER UPDATE OF scim_id, scim_deleted,
    placement_manual, scim_attributes, custom_attribute_value, status, profile_id,
    storage_region_id, quota_gb, mapping_id, customer_id ON users
WHEN NEW.scim_id IS NOT NULL OR OLD.scim_id IS NOT NULL
BEGIN
    UPDATE population_versions SET version = version + 1 WHERE customer_id = NEW.customer_id;
END;

CREATE TRIGGER population_on_user_move AFTER UPDATE OF customer_id ON users
WHEN OLD.scim_id IS NOT NULL AND OLD.customer_id <> NEW.customer_id
BEGIN
    UPDATE population_versions SET version = version + 1 WHERE customer_id = OLD.customer_id;
END;

CREATE TRIGGER population_on_member_insert AFTER INSERT ON scim_group_members
BEGIN
    UPDATE population_versions SET version = version + 1
    WHERE customer_id = (SELECT customer_id FROM scim_groups WHERE id = NEW.group_id);
END;

CREATE TRIGGER population_on_member_delete AFTER DELETE ON scim_group_members
BEGIN
    UPDATE population_versions SET version = version + 1
    WHERE customer_id = (SELECT customer_id FROM scim_groups WHERE id = OLD.group_id);
END;

CREATE TRIGGER population_on_group_change AFTER UPDATE OF scim_id ON scim_groups
BEGIN
    UPDATE population_versions SET version = version + 1 WHERE customer_id = NEW.customer_id;
END;

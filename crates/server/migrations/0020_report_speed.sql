-- The report at a million users: every sort served by an index, every total and facet count
-- without visiting a million rows.
--
-- 1. The report's columns that live in other tables (customer, profile, storage region,
--    mapping) are copied onto the user row, so each sort walks an index of `users` instead of
--    sorting the whole result. Triggers keep the copies right in the same transaction as any
--    change, whichever code (or hand-written SQL) makes it.
-- 2. `user_counts` holds how many users share each combination of the columns a report filter
--    or facet can look at other than per-user values (customer, profile, region, mapping,
--    status, license, Managed By, quota, custom attribute name): a few hundred rows for a million
--    users. Totals of queries that filter only on those columns, and every facet, are sums over
--    it. Triggers keep it exact.

ALTER TABLE users ADD COLUMN customer_global_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN customer_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN customer_account_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN customer_service_plan TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN profile_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN storage_region_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mapping_name TEXT NOT NULL DEFAULT '';

UPDATE users SET
    customer_global_id = (SELECT c.global_id FROM customers c WHERE c.id = users.customer_id),
    customer_name = (SELECT c.name FROM customers c WHERE c.id = users.customer_id),
    customer_account_name = (SELECT c.account_name FROM customers c WHERE c.id = users.customer_id),
    customer_service_plan = (SELECT c.service_plan FROM customers c WHERE c.id = users.customer_id),
    profile_name = (SELECT p.name FROM profiles p WHERE p.id = users.profile_id),
    storage_region_name =
        COALESCE((SELECT r.name FROM storage_regions r WHERE r.id = users.storage_region_id), ''),
    mapping_name = COALESCE((SELECT m.name FROM mappings m WHERE m.id = users.mapping_id), '');

-- A new user, or one moved to another customer, profile, region or mapping, takes their names.
-- The WHEN skips the write when the writing code already gave the right names (bulk loads and
-- the mapping engine's placements do).
CREATE TRIGGER users_names_on_insert AFTER INSERT ON users
WHEN NEW.customer_name IS NOT (SELECT name FROM customers WHERE id = NEW.customer_id)
  OR NEW.customer_global_id IS NOT (SELECT global_id FROM customers WHERE id = NEW.customer_id)
  OR NEW.customer_account_name IS NOT (SELECT account_name FROM customers WHERE id = NEW.customer_id)
  OR NEW.customer_service_plan IS NOT (SELECT service_plan FROM customers WHERE id = NEW.customer_id)
  OR NEW.profile_name IS NOT (SELECT name FROM profiles WHERE id = NEW.profile_id)
  OR NEW.storage_region_name
     IS NOT COALESCE((SELECT name FROM storage_regions WHERE id = NEW.storage_region_id), '')
  OR NEW.mapping_name IS NOT COALESCE((SELECT name FROM mappings WHERE id = NEW.mapping_id), '')
BEGIN
    UPDATE users SET
        customer_global_id = (SELECT global_id FROM customers WHERE id = NEW.customer_id),
        customer_name = (SELECT name FROM customers WHERE id = NEW.customer_id),
        customer_account_name = (SELECT account_name FROM customers WHERE id = NEW.customer_id),
        customer_service_plan = (SELECT service_plan FROM customers WHERE id = NEW.customer_id),
        profile_name = (SELECT name FROM profiles WHERE id = NEW.profile_id),
        storage_region_name =
            COALESCE((SELECT name FROM storage_regions WHERE id = NEW.storage_region_id), ''),
        mapping_name = COALESCE((SELECT name FROM mappings WHERE id = NEW.mapping_id), '')
    WHERE id = NEW.id;
END;

CREATE TRIGGER users_names_on_move AFTER UPDATE OF customer_id, profile_id, storage_region_id,
    mapping_id ON users
WHEN NEW.customer_name IS NOT (SELECT name FROM customers WHERE id = NEW.customer_id)
  OR NEW.customer_global_id IS NOT (SELECT global_id FROM customers WHERE id = NEW.customer_id)
  OR NEW.customer_account_name IS NOT (SELECT account_name FROM customers WHERE id = NEW.customer_id)
  OR NEW.customer_service_plan IS NOT (SELECT service_plan FROM customers WHERE id = NEW.customer_id)
  OR NEW.profile_name IS NOT (SELECT name FROM profiles WHERE id = NEW.profile_id)
  OR NEW.storage_region_name
     IS NOT COALESCE((SELECT name FROM storage_regions WHERE id = NEW.storage_region_id), '')
  OR NEW.mapping_name IS NOT COALESCE((SELECT name FROM mappings WHERE id = NEW.mapping_id), '')
BEGIN
    UPDATE users SET
        customer_global_id = (SELECT global_id FROM customers WHERE id = NEW.customer_id),
        customer_name = (SELECT name FROM customers WHERE id = NEW.customer_id),
        customer_account_name = (SELECT account_name FROM customers WHERE id = NEW.customer_id),
        customer_service_plan = (SELECT service_plan FROM customers WHERE id = NEW.customer_id),
        profile_name = (SELECT name FROM profiles WHERE id = NEW.profile_id),
        storage_region_name =
            COALESCE((SELECT name FROM storage_regions WHERE id = NEW.storage_region_id), ''),
        mapping_name = COALESCE((SELECT name FROM mappings WHERE id = NEW.mapping_id), '')
    WHERE id = NEW.id;
END;

-- A renamed customer, profile, region or mapping is renamed on its users.
CREATE TRIGGER customers_names_to_users AFTER UPDATE OF global_id, name, account_name,
    service_plan ON customers
BEGIN
    UPDATE users SET customer_global_id = NEW.global_id, customer_name = NEW.name,
        customer_account_name = NEW.account_name, customer_service_plan = NEW.service_plan
    WHERE customer_id = NEW.id;
END;

CREATE TRIGGER profiles_name_to_users AFTER UPDATE OF name ON profiles
BEGIN
    UPDATE users SET profile_name = NEW.name WHERE profile_id = NEW.id;
END;

CREATE INDEX users_storage_region ON users (storage_region_id);
CREATE TRIGGER storage_regions_name_to_users AFTER UPDATE OF name ON storage_regions
BEGIN
    UPDATE users SET storage_region_name = NEW.name WHERE storage_region_id = NEW.id;
END;

CREATE TRIGGER mappings_name_to_users AFTER UPDATE OF name ON mappings
BEGIN
    UPDATE users SET mapping_name = NEW.name WHERE mapping_id = NEW.id;
END;

-- Text sorts ignore case (`COLLATE NOCASE`), so their indexes must too, or SQLite sorts.
DROP INDEX users_by_status;
DROP INDEX users_by_license;
DROP INDEX users_by_managed_by;
CREATE INDEX users_by_status ON users (status COLLATE NOCASE, id);
CREATE INDEX users_by_license ON users (license COLLATE NOCASE, id);
CREATE INDEX users_by_managed_by ON users (managed_by COLLATE NOCASE, id);
CREATE INDEX users_by_customer_global_id ON users (customer_global_id COLLATE NOCASE, id);
CREATE INDEX users_by_customer_name ON users (customer_name COLLATE NOCASE, id);
CREATE INDEX users_by_account_name ON users (customer_account_name COLLATE NOCASE, id);
CREATE INDEX users_by_profile_name ON users (profile_name COLLATE NOCASE, id);
CREATE INDEX users_by_region_name ON users (storage_region_name COLLATE NOCASE, id);
CREATE INDEX users_by_mapping_name ON users (mapping_name COLLATE NOCASE, id);
CREATE INDEX users_by_quota ON users (COALESCE(quota_gb, 2147483647), id);
CREATE INDEX users_by_attribute_name ON users (custom_attribute_name COLLATE NOCASE, id);
CREATE INDEX users_by_attribute_value ON users (custom_attribute_value COLLATE NOCASE, id);

-- Unlimited quota (NULL) counts as 2147483647, as the report sorts it, so the key has no NULL.
CREATE TABLE user_counts (
    customer_id            INTEGER NOT NULL,
    customer_global_id     TEXT NOT NULL,
    customer_name          TEXT NOT NULL,
    customer_account_name  TEXT NOT NULL,
    customer_service_plan  TEXT NOT NULL,
    profile_name           TEXT NOT NULL,
    storage_region_name    TEXT NOT NULL,
    mapping_name           TEXT NOT NULL,
    status                 TEXT NOT NULL,
    license                TEXT NOT NULL,
    managed_by             TEXT NOT NULL,
    quota_gb               INTEGER NOT NULL,
    custom_attribute_name  TEXT NOT NULL,
    n                      INTEGER NOT NULL,
    PRIMARY KEY (customer_id, customer_global_id, customer_name, customer_account_name,
        customer_service_plan, profile_name, storage_region_name, mapping_name, status, license,
        managed_by, quota_gb, custom_attribute_name)
) WITHOUT ROWID;

INSERT INTO user_counts
SELECT customer_id, customer_global_id, customer_name, customer_account_name,
    customer_service_plan, profile_name, storage_region_name, mapping_name, status, license,
    managed_by, COALESCE(quota_gb, 2147483647), custom_attribute_name, COUNT(*)
FROM users
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13;

CREATE TRIGGER user_counts_on_insert AFTER INSERT ON users
BEGIN
    INSERT INTO user_counts VALUES (NEW.customer_id, NEW.customer_global_id, NEW.customer_name,
        NEW.customer_account_name, NEW.customer_service_plan, NEW.profile_name,
        NEW.storage_region_name, NEW.mapping_name, NEW.status, NEW.license, NEW.managed_by,
        COALESCE(NEW.quota_gb, 2147483647), NEW.custom_attribute_name, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER user_counts_on_delete AFTER DELETE ON users
BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE customer_id = OLD.customer_id AND customer_global_id = OLD.customer_global_id
      AND customer_name = OLD.customer_name AND customer_account_name = OLD.customer_account_name
      AND customer_service_plan = OLD.customer_service_plan AND profile_name = OLD.profile_name
      AND storage_region_name = OLD.storage_region_name AND mapping_name = OLD.mapping_name
      AND status = OLD.status AND license = OLD.license AND managed_by = OLD.managed_by
      AND quota_gb = COALESCE(OLD.quota_gb, 2147483647)
      AND custom_attribute_name = OLD.custom_attribute_name;
END;

CREATE TRIGGER user_counts_on_update AFTER UPDATE OF customer_id, customer_global_id,
    customer_name, customer_account_name, customer_service_plan, profile_name,
    storage_region_name, mapping_name, status, license, managed_by, quota_gb,
    custom_attribute_name ON users
BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE customer_id = OLD.customer_id AND customer_global_id = OLD.customer_global_id
      AND customer_name = OLD.customer_name AND customer_account_name = OLD.customer_account_name
      AND customer_service_plan = OLD.customer_service_plan AND profile_name = OLD.profile_name
      AND storage_region_name = OLD.storage_region_name AND mapping_name = OLD.mapping_name
      AND status = OLD.status AND license = OLD.license AND managed_by = OLD.managed_by
      AND quota_gb = COALESCE(OLD.quota_gb, 2147483647)
      AND custom_attribute_name = OLD.custom_attribute_name;
    INSERT INTO user_counts VALUES (NEW.customer_id, NEW.customer_global_id, NEW.customer_name,
        NEW.customer_account_name, NEW.customer_service_plan, NEW.profile_name,
        NEW.storage_region_name, NEW.mapping_name, NEW.status, NEW.license, NEW.managed_by,
        COALESCE(NEW.quota_gb, 2147483647), NEW.custom_attribute_name, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

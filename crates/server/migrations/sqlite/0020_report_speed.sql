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

-- What a user's copies should say, and whether they say something else.
CREATE VIEW user_report_names AS
SELECT u.id, c.global_id, c.name, c.account_name, c.service_plan, p.name AS profile_name,
    COALESCE(r.name, '') AS storage_region_name, COALESCE(m.name, '') AS mapping_name,
    (u.customer_global_id, u.customer_name, u.customer_account_name, u.customer_service_plan,
        u.profile_name, u.storage_region_name, u.mapping_name)
    IS NOT (c.global_id, c.name, c.account_name, c.service_plan, p.name, COALESCE(r.name, ''),
        COALESCE(m.name, '')) AS stale
FROM users u
JOIN customers c ON c.id = u.customer_id
JOIN profiles p ON p.id = u.profile_id
LEFT JOIN storage_regions r ON r.id = u.storage_region_id
LEFT JOIN mappings m ON m.id = u.mapping_id;

UPDATE users SET (customer_global_id, customer_name, customer_account_name, customer_service_plan,
        profile_name, storage_region_name, mapping_name) =
    (SELECT global_id, name, account_name, service_plan, profile_name, storage_region_name,
        mapping_name FROM user_report_names n WHERE n.id = users.id);

-- A new user, or one moved to another customer, profile, region or mapping, takes their names.
-- Nothing is written when the writing code already gave the right names (bulk loads and the
-- mapping engine's placements do).
CREATE TRIGGER users_names_on_insert AFTER INSERT ON users
WHEN (SELECT stale FROM user_report_names WHERE id = NEW.id)
BEGIN
    UPDATE users SET (customer_global_id, customer_name, customer_account_name,
            customer_service_plan, profile_name, storage_region_name, mapping_name) =
        (SELECT global_id, name, account_name, service_plan, profile_name, storage_region_name,
            mapping_name FROM user_report_names WHERE id = NEW.id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER users_names_on_move AFTER UPDATE OF customer_id, profile_id, storage_region_id,
    mapping_id ON users
WHEN (SELECT stale FROM user_report_names WHERE id = NEW.id)
BEGIN
    UPDATE users SET (customer_global_id, customer_name, customer_account_name,
            customer_service_plan, profile_name, storage_region_name, mapping_name) =
        (SELECT global_id, name, account_name, service_plan, profile_name, storage_region_name,
            mapping_name FROM user_report_names WHERE id = NEW.id)
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

-- Without an index of users by region: Provisio never renames a region, and one renamed by
-- hand costs a scan, not every write an index entry.
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

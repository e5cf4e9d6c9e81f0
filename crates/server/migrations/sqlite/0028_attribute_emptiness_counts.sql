-- `user_counts` also groups users by whether their custom attribute value is empty, so the total
-- of an "is empty" filter (half the users, in the demo data) is a sum over a few hundred groups
-- instead of a count of half a million index entries. Users carry the same flag as a virtual
-- column of the same name, so a condition on it reads the same on both tables.
ALTER TABLE users ADD COLUMN custom_attribute_value_empty INTEGER
    GENERATED ALWAYS AS (custom_attribute_value = '') VIRTUAL;

DROP TRIGGER user_counts_on_insert;
DROP TRIGGER user_counts_on_delete;
DROP TRIGGER user_counts_on_update;
DROP TABLE user_counts;

CREATE TABLE user_counts (
    customer_id                   INTEGER NOT NULL,
    customer_global_id            TEXT NOT NULL,
    customer_name                 TEXT NOT NULL,
    customer_account_name         TEXT NOT NULL,
    customer_service_plan         TEXT NOT NULL,
    profile_name                  TEXT NOT NULL,
    storage_region_name           TEXT NOT NULL,
    mapping_name                  TEXT NOT NULL,
    status                        TEXT NOT NULL,
    license                       TEXT NOT NULL,
    managed_by                    TEXT NOT NULL,
    quota_gb                      INTEGER NOT NULL,
    custom_attribute_name         TEXT NOT NULL,
    custom_attribute_value_empty  INTEGER NOT NULL,
    n                             INTEGER NOT NULL,
    PRIMARY KEY (customer_id, customer_global_id, customer_name, customer_account_name,
        customer_service_plan, profile_name, storage_region_name, mapping_name, status, license,
        managed_by, quota_gb, custom_attribute_name, custom_attribute_value_empty)
) WITHOUT ROWID;

INSERT INTO user_counts
SELECT customer_id, customer_global_id, customer_name, customer_account_name,
    customer_service_plan, profile_name, storage_region_name, mapping_name, status, license,
    managed_by, COALESCE(quota_gb, 2147483647), custom_attribute_name,
    custom_attribute_value_empty, COUNT(*)
FROM users
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14;

CREATE TRIGGER user_counts_on_insert AFTER INSERT ON users
BEGIN
    INSERT INTO user_counts VALUES (NEW.customer_id, NEW.customer_global_id, NEW.customer_name,
        NEW.customer_account_name, NEW.customer_service_plan, NEW.profile_name,
        NEW.storage_region_name, NEW.mapping_name, NEW.status, NEW.license, NEW.managed_by,
        COALESCE(NEW.quota_gb, 2147483647), NEW.custom_attribute_name,
        NEW.custom_attribute_value_empty, 1)
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
      AND custom_attribute_name = OLD.custom_attribute_name
      AND custom_attribute_value_empty = OLD.custom_attribute_value_empty;
END;

-- Set-wise placements count their moves themselves (`db::mappings`), as in 0024.
CREATE TRIGGER user_counts_on_update AFTER UPDATE OF customer_id, customer_global_id,
    customer_name, customer_account_name, customer_service_plan, profile_name,
    storage_region_name, mapping_name, status, license, managed_by, quota_gb,
    custom_attribute_name, custom_attribute_value ON users
WHEN NOT (SELECT active FROM set_wise_writes)
BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE customer_id = OLD.customer_id AND customer_global_id = OLD.customer_global_id
      AND customer_name = OLD.customer_name AND customer_account_name = OLD.customer_account_name
      AND customer_service_plan = OLD.customer_service_plan AND profile_name = OLD.profile_name
      AND storage_region_name = OLD.storage_region_name AND mapping_name = OLD.mapping_name
      AND status = OLD.status AND license = OLD.license AND managed_by = OLD.managed_by
      AND quota_gb = COALESCE(OLD.quota_gb, 2147483647)
      AND custom_attribute_name = OLD.custom_attribute_name
      AND custom_attribute_value_empty = OLD.custom_attribute_value_empty;
    INSERT INTO user_counts VALUES (NEW.customer_id, NEW.customer_global_id, NEW.customer_name,
        NEW.customer_account_name, NEW.customer_service_plan, NEW.profile_name,
        NEW.storage_region_name, NEW.mapping_name, NEW.status, NEW.license, NEW.managed_by,
        COALESCE(NEW.quota_gb, 2147483647), NEW.custom_attribute_name,
        NEW.custom_attribute_value_empty, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

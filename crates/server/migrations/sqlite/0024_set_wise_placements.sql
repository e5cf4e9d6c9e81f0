-- The mapping engine places users hundreds at a time. Row triggers that keep the report's name
-- copies, `user_counts` and the customer's population version cost a large share of such a
-- batch; the engine keeps all three itself, once per statement, while this flag is raised
-- inside its own savepoint. It is lowered before the savepoint ends, so no other writer ever
-- sees it raised and every other write still goes through the triggers.
CREATE TABLE set_wise_writes (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    active  INTEGER NOT NULL
);
INSERT INTO set_wise_writes (id, active) VALUES (1, 0);

DROP TRIGGER users_names_on_move;
CREATE TRIGGER users_names_on_move AFTER UPDATE OF customer_id, profile_id, storage_region_id,
    mapping_id ON users
WHEN NOT (SELECT active FROM set_wise_writes)
    AND (SELECT stale FROM user_report_names WHERE id = NEW.id)
BEGIN
    UPDATE users SET (customer_global_id, customer_name, customer_account_name,
            customer_service_plan, profile_name, storage_region_name, mapping_name) =
        (SELECT global_id, name, account_name, service_plan, profile_name, storage_region_name,
            mapping_name FROM user_report_names WHERE id = NEW.id)
    WHERE id = NEW.id;
END;

DROP TRIGGER user_counts_on_update;
CREATE TRIGGER user_counts_on_update AFTER UPDATE OF customer_id, customer_global_id,
    customer_name, customer_account_name, customer_service_plan, profile_name,
    storage_region_name, mapping_name, status, license, managed_by, quota_gb,
    custom_attribute_name ON users
WHEN NOT (SELECT active FROM set_wise_writes)
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

-- The population version's trigger honours the flag too; it is re-created once, with the user's
-- stamp, in 0025.

-- A customer's User-Identifier Custom Attribute: which SCIM directory attribute fills the
-- report's Custom Attribute Name and Value of its SCIM users (none: SCIM fills nothing), and
-- whether the report shows it (both stay empty when it does not).
ALTER TABLE customers ADD COLUMN custom_attribute TEXT;
ALTER TABLE customers ADD COLUMN custom_attribute_shown INTEGER NOT NULL DEFAULT 1;

-- What each SCIM user's Custom Attribute Name and Value should be, for customers with a setting.
CREATE VIEW scim_custom_attributes AS
SELECT u.id,
    CASE WHEN c.custom_attribute_shown THEN c.custom_attribute ELSE '' END AS name,
    CASE WHEN c.custom_attribute_shown
        THEN COALESCE(json_extract(u.scim_attributes, '$.' || c.custom_attribute), '')
        ELSE '' END AS value
FROM users u JOIN customers c ON c.id = u.customer_id
WHERE u.scim_id IS NOT NULL AND c.custom_attribute IS NOT NULL;

-- Every SCIM create, claim and change of attributes keeps them current, in its transaction.
CREATE TRIGGER users_custom_attribute_on_insert AFTER INSERT ON users
WHEN NEW.scim_id IS NOT NULL
    AND (SELECT custom_attribute FROM customers WHERE id = NEW.customer_id) IS NOT NULL
BEGIN
    UPDATE users SET (custom_attribute_name, custom_attribute_value) =
        (SELECT name, value FROM scim_custom_attributes WHERE id = NEW.id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER users_custom_attribute_on_change AFTER UPDATE OF scim_attributes, scim_id,
    customer_id ON users
WHEN NEW.scim_id IS NOT NULL
    AND (SELECT custom_attribute FROM customers WHERE id = NEW.customer_id) IS NOT NULL
BEGIN
    UPDATE users SET (custom_attribute_name, custom_attribute_value) =
        (SELECT name, value FROM scim_custom_attributes WHERE id = NEW.id)
    WHERE id = NEW.id AND (custom_attribute_name, custom_attribute_value) IS NOT
        (SELECT name, value FROM scim_custom_attributes WHERE id = NEW.id);
END;

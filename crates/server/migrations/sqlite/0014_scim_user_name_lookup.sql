-- A SCIM create matches a returning user by userName even when SCIM deleted them, so the
-- lookup needs an index over every SCIM userName of a customer, not only the live ones.
CREATE INDEX users_scim_user_name_any ON users (customer_id, scim_user_name COLLATE NOCASE)
    WHERE scim_user_name IS NOT NULL;

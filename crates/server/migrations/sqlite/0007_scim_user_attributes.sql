-- The SCIM displayName as the IdP set it (the report's User Name falls back to the person's
-- name when it is absent), and the type the IdP gave the email.
ALTER TABLE users ADD COLUMN scim_display_name TEXT;
ALTER TABLE users ADD COLUMN email_type TEXT;
UPDATE users SET scim_display_name = user_name, email_type = 'work' WHERE scim_id IS NOT NULL;

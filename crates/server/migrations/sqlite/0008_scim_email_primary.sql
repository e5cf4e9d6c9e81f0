-- Whether the IdP marked the user's email primary, returned as it was sent.
ALTER TABLE users ADD COLUMN email_primary INTEGER;

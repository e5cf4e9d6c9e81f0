-- A provisioning event names the user row it concerns, so a user's history survives a new SCIM
-- id (a re-assignment), and the admin who acted when one did rather than an identity provider.
ALTER TABLE provisioning_events ADD COLUMN user_id INTEGER;
ALTER TABLE provisioning_events ADD COLUMN admin_email TEXT;
UPDATE provisioning_events
   SET user_id = (SELECT u.id FROM users u WHERE u.scim_id = provisioning_events.target_id)
 WHERE target_id IS NOT NULL;
CREATE INDEX provisioning_events_user ON provisioning_events (user_id, id) WHERE user_id IS NOT NULL;

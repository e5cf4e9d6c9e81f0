-- The search index and the hourly counts are fed in batches by the server's watch instead of a
-- trigger per event, so writing an event (inside every SCIM write) costs its insert alone.
-- Events up to `last_event_id` are in both; readers count and search the newer ones directly.
DROP TRIGGER provisioning_events_identity_insert;
DROP TRIGGER provisioning_hourly_insert;
CREATE TABLE provisioning_log_indexed (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id   INTEGER NOT NULL
);
INSERT INTO provisioning_log_indexed (id, last_event_id)
SELECT 1, COALESCE(MAX(id), 0) FROM provisioning_events;

-- Removing an event takes it out of the index and the counts only if it was put in them.
DROP TRIGGER provisioning_events_identity_delete;
CREATE TRIGGER provisioning_events_identity_delete AFTER DELETE ON provisioning_events
WHEN old.id <= (SELECT last_event_id FROM provisioning_log_indexed) BEGIN
    INSERT INTO provisioning_events_identity (provisioning_events_identity, rowid, identity)
        VALUES ('delete', old.id, old.identity);
END;
DROP TRIGGER provisioning_events_identity_update;
CREATE TRIGGER provisioning_events_identity_update AFTER UPDATE OF identity ON provisioning_events
WHEN old.id <= (SELECT last_event_id FROM provisioning_log_indexed) BEGIN
    INSERT INTO provisioning_events_identity (provisioning_events_identity, rowid, identity)
        VALUES ('delete', old.id, old.identity);
    INSERT INTO provisioning_events_identity (rowid, identity) VALUES (new.id, new.identity);
END;
DROP TRIGGER provisioning_hourly_delete;
CREATE TRIGGER provisioning_hourly_delete AFTER DELETE ON provisioning_events
WHEN old.token_id IS NOT NULL AND old.action <> 'place'
 AND old.id <= (SELECT last_event_id FROM provisioning_log_indexed) BEGIN
    UPDATE provisioning_hourly SET
        requests = requests - 1,
        failures = failures - (old.outcome = 'failure'),
        unauthorized = unauthorized - (old.http_status IS 401)
     WHERE customer_id = old.customer_id AND hour = substr(old.at, 1, 13);
END;

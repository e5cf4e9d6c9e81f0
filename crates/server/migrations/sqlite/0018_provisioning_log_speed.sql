-- The provisioning status counts each customer's SCIM requests of the last hour, day and week:
-- this index holds exactly those events with what is counted, so the count never reads the
-- table.
CREATE INDEX provisioning_events_requests ON provisioning_events (at, customer_id, outcome, http_status)
    WHERE token_id IS NOT NULL AND action <> 'place';

-- The log's search finds an identity by any part of it: a trigram index answers substring
-- search without reading every event. Kept in step with the table by triggers. Ids (source,
-- target, change) are looked up whole, through their own indexes.
CREATE VIRTUAL TABLE provisioning_events_identity USING fts5(
    identity, content = 'provisioning_events', content_rowid = 'id', tokenize = 'trigram',
    columnsize = 0
);
INSERT INTO provisioning_events_identity (provisioning_events_identity) VALUES ('rebuild');
CREATE TRIGGER provisioning_events_identity_insert AFTER INSERT ON provisioning_events BEGIN
    INSERT INTO provisioning_events_identity (rowid, identity) VALUES (new.id, new.identity);
END;
CREATE TRIGGER provisioning_events_identity_delete AFTER DELETE ON provisioning_events BEGIN
    INSERT INTO provisioning_events_identity (provisioning_events_identity, rowid, identity)
        VALUES ('delete', old.id, old.identity);
END;
CREATE TRIGGER provisioning_events_identity_update AFTER UPDATE OF identity ON provisioning_events
BEGIN
    INSERT INTO provisioning_events_identity (provisioning_events_identity, rowid, identity)
        VALUES ('delete', old.id, old.identity);
    INSERT INTO provisioning_events_identity (rowid, identity) VALUES (new.id, new.identity);
END;
CREATE INDEX provisioning_events_request ON provisioning_events (request_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX provisioning_events_target ON provisioning_events (target_id)
    WHERE target_id IS NOT NULL;
CREATE INDEX provisioning_events_source ON provisioning_events (source_id)
    WHERE source_id IS NOT NULL;

-- Each customer's SCIM requests per hour: the status's day and week are read from these
-- (and the events of the window's first, partial hour), not counted from the log each time.
CREATE TABLE provisioning_hourly (
    customer_id     INTEGER NOT NULL,
    -- 'YYYY-MM-DDTHH' (UTC), the start of the event's `at`.
    hour            TEXT NOT NULL,
    requests        INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    unauthorized    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, hour)
) WITHOUT ROWID;
INSERT INTO provisioning_hourly (customer_id, hour, requests, failures, unauthorized)
SELECT customer_id, substr(at, 1, 13), COUNT(*), SUM(outcome = 'failure'),
       SUM(http_status IS 401)
  FROM provisioning_events WHERE token_id IS NOT NULL AND action <> 'place'
 GROUP BY customer_id, substr(at, 1, 13);
CREATE TRIGGER provisioning_hourly_insert AFTER INSERT ON provisioning_events
WHEN new.token_id IS NOT NULL AND new.action <> 'place' BEGIN
    INSERT INTO provisioning_hourly (customer_id, hour, requests, failures, unauthorized)
    VALUES (new.customer_id, substr(new.at, 1, 13), 1, new.outcome = 'failure',
            new.http_status IS 401)
    ON CONFLICT (customer_id, hour) DO UPDATE SET
        requests = requests + 1,
        failures = failures + excluded.failures,
        unauthorized = unauthorized + excluded.unauthorized;
END;
CREATE TRIGGER provisioning_hourly_delete AFTER DELETE ON provisioning_events
WHEN old.token_id IS NOT NULL AND old.action <> 'place' BEGIN
    UPDATE provisioning_hourly SET
        requests = requests - 1,
        failures = failures - (old.outcome = 'failure'),
        unauthorized = unauthorized - (old.http_status IS 401)
     WHERE customer_id = old.customer_id AND hour = substr(old.at, 1, 13);
END;

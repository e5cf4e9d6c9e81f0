-- The provisioning log as admins read it: each event says what kind of change it was (the log's
-- Action column), how it ended (Success, Failure, Skipped, Warning), whom it concerned (kept as
-- it was then, since users and groups are renamed and deleted), and which request made it, how
-- long that took and from where. `outcome` gains two values, so the table is rebuilt.
CREATE TABLE provisioning_events_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    customer_id     INTEGER NOT NULL REFERENCES customers(id),
    token_id        INTEGER REFERENCES scim_tokens(id),
    action          TEXT NOT NULL,
    kind            TEXT NOT NULL
                    CHECK (kind IN ('create', 'update', 'disable', 'restore', 'delete', 'other')),
    outcome         TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'skipped', 'warning')),
    identity        TEXT NOT NULL DEFAULT '',
    source_id       TEXT,
    target_id       TEXT,
    -- JSON: {"property": {"before": ..., "after": ...}}
    changes         TEXT NOT NULL DEFAULT '{}',
    error           TEXT,
    -- What the client was answered: the HTTP status and the troubleshooting code.
    http_status     INTEGER,
    error_code      TEXT,
    request_id      TEXT,
    duration_ms     INTEGER,
    client_address  TEXT,
    user_id         INTEGER,
    admin_email     TEXT
);

INSERT INTO provisioning_events_log (id, at, customer_id, token_id, action, kind, outcome,
    identity, source_id, target_id, changes, error, user_id, admin_email)
SELECT e.id, e.at, e.customer_id, e.token_id, e.action,
       CASE
           WHEN e.action IN ('create', 'create_group', 'match') THEN 'create'
           WHEN e.action IN ('update', 'update_group', 'place') THEN 'update'
           WHEN e.action = 'preserve' THEN 'disable'
           WHEN e.action = 'restore' THEN 'restore'
           WHEN e.action IN ('delete', 'delete_group') THEN 'delete'
           ELSE 'other'
       END,
       e.outcome,
       COALESCE((SELECT u.email FROM users u WHERE u.id = e.user_id),
                (SELECT g.display_name FROM scim_groups g WHERE g.scim_id = e.target_id),
                json_extract(e.changes, '$.userName.after'),
                json_extract(e.changes, '$.displayName.after'),
                e.target_id, ''),
       e.source_id, e.target_id, e.changes, e.error, e.user_id, e.admin_email
  FROM provisioning_events e;

DROP TABLE provisioning_events;
ALTER TABLE provisioning_events_log RENAME TO provisioning_events;

-- Newest first, for everyone (MSP admins), per customer, per outcome and per kind: the log's
-- pages and counts read these instead of the table.
CREATE INDEX provisioning_events_at ON provisioning_events (at, id);
CREATE INDEX provisioning_events_customer ON provisioning_events (customer_id, at, id);
CREATE INDEX provisioning_events_outcome ON provisioning_events (outcome, at, id);
CREATE INDEX provisioning_events_token ON provisioning_events (token_id, at, id);
CREATE INDEX provisioning_events_user ON provisioning_events (user_id, id) WHERE user_id IS NOT NULL;

-- Who hears when a customer's provisioning breaks, and which state they were last told of, so
-- one state change sends one message.
CREATE TABLE provisioning_notifications (
    customer_id     INTEGER PRIMARY KEY REFERENCES customers(id),
    -- JSON array of addresses.
    recipients      TEXT NOT NULL DEFAULT '[]',
    notified_state  TEXT,
    notified_at     TEXT
);

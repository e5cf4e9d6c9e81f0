-- Report subscriptions and their deliveries.

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY,
    owner_id        INTEGER NOT NULL REFERENCES admins(id),
    name            TEXT NOT NULL,
    -- A snapshot (query + columns) or a saved view it follows.
    view_kind       TEXT NOT NULL CHECK (view_kind IN ('snapshot', 'saved_view')),
    query           TEXT NOT NULL DEFAULT '',
    columns         TEXT NOT NULL DEFAULT '',
    -- No foreign key: deleting a view must not fail; a delivery then reports it gone.
    saved_view_id   INTEGER,
    format          TEXT NOT NULL,
    -- JSON of provisio_api::subscription::Schedule.
    schedule        TEXT NOT NULL,
    -- JSON array of addresses.
    recipients      TEXT NOT NULL,
    skip_empty      INTEGER NOT NULL DEFAULT 0,
    enabled         INTEGER NOT NULL DEFAULT 1,
    -- The next scheduled delivery (UTC); NULL while paused.
    next_run_at     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX subscriptions_due ON subscriptions (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX subscriptions_owner ON subscriptions (owner_id);

-- One row per delivery, recorded before it is sent: the unique key makes a scheduled
-- delivery happen once however often the scheduler looks at it.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
    scheduled_for   TEXT NOT NULL,
    on_demand       INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt may start (backoff after a failed one).
    retry_at        TEXT,
    recipients      TEXT NOT NULL,
    rows            INTEGER,
    bytes           INTEGER,
    error           TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE UNIQUE INDEX deliveries_scheduled ON deliveries (subscription_id, scheduled_for)
    WHERE on_demand = 0;
CREATE INDEX deliveries_open ON deliveries (status) WHERE status IN ('pending', 'sending');

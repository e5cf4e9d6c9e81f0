-- SCIM provisioning: per-customer bearer tokens, the SCIM face of users, and the provisioning log.

CREATE TABLE scim_tokens (
    id                  INTEGER PRIMARY KEY,
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    name                TEXT NOT NULL,
    -- Becomes the "Managed By" of the users this token provisions.
    identity_provider   TEXT NOT NULL,
    -- The recognisable start of the token (`pvs_` plus a short id), safe to show.
    prefix              TEXT NOT NULL,
    -- Only a SHA-256 of the token is kept.
    token_hash          TEXT NOT NULL UNIQUE,
    created_by          TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    revoked_at          TEXT,
    last_used_at        TEXT,
    last_used_address   TEXT
);
CREATE INDEX scim_tokens_customer ON scim_tokens (customer_id);

ALTER TABLE users ADD COLUMN scim_id TEXT;
ALTER TABLE users ADD COLUMN scim_user_name TEXT;
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN given_name TEXT;
ALTER TABLE users ADD COLUMN family_name TEXT;
-- A SCIM DELETE keeps the user's data in Provisio but ends the SCIM resource.
ALTER TABLE users ADD COLUMN scim_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN updated_at TEXT;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX users_scim_id ON users (scim_id);
CREATE UNIQUE INDEX users_scim_user_name ON users (customer_id, scim_user_name COLLATE NOCASE)
    WHERE scim_user_name IS NOT NULL AND scim_deleted = 0;

CREATE TABLE provisioning_events (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    customer_id     INTEGER NOT NULL REFERENCES customers(id),
    token_id        INTEGER REFERENCES scim_tokens(id),
    action          TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    source_id       TEXT,
    target_id       TEXT,
    -- JSON: {"property": {"before": ..., "after": ...}}
    changes         TEXT NOT NULL DEFAULT '{}',
    error           TEXT
);
CREATE INDEX provisioning_events_customer ON provisioning_events (customer_id, at);

-- Provisioning mappings: per customer, in priority order, each placing the users it matches
-- on a backup profile, storage region and quota.
CREATE TABLE mappings (
    id                  INTEGER PRIMARY KEY,
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    -- 1 is the highest priority; positions of a customer are 1..n.
    position            INTEGER NOT NULL,
    name                TEXT NOT NULL,
    enabled             INTEGER NOT NULL DEFAULT 1,
    -- JSON, the wire type Matcher: {"kind": "groups", "groups": [...]} and so on.
    matcher             TEXT NOT NULL,
    profile_id          INTEGER NOT NULL REFERENCES profiles(id),
    storage_region_id   INTEGER NOT NULL REFERENCES storage_regions(id),
    -- NULL: unlimited.
    quota_gb            INTEGER,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX mappings_name ON mappings (customer_id, name COLLATE NOCASE);
CREATE INDEX mappings_customer ON mappings (customer_id, position);

-- Where the mappings placed a user (NULL: by the customer's defaults, or pending), and the
-- quota they were given (NULL: unlimited).
ALTER TABLE users ADD COLUMN mapping_id INTEGER REFERENCES mappings(id);
ALTER TABLE users ADD COLUMN quota_gb INTEGER;
CREATE INDEX users_mapping ON users (mapping_id);

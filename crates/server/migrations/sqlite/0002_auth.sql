-- Admin accounts, their sessions, and the audit log.

CREATE TABLE admins (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('msp_admin', 'customer_admin', 'read_only')),
    -- The customer a customer admin (or a customer viewer) belongs to; NULL means MSP-wide.
    customer_id    INTEGER REFERENCES customers(id),
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    CHECK (role != 'customer_admin' OR customer_id IS NOT NULL),
    CHECK (role != 'msp_admin' OR customer_id IS NULL)
);

-- Only a SHA-256 of the session id is stored, so a copy of the database signs no one in.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    admin_id      INTEGER NOT NULL REFERENCES admins(id),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    client_address TEXT
);
CREATE INDEX sessions_admin ON sessions (admin_id);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor_admin_id  INTEGER REFERENCES admins(id),
    actor_email     TEXT,
    action          TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT '',
    client_address  TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

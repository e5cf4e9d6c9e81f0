-- Customers of the MSP, their backup profiles and storage regions, and their provisioned users.
-- Times are ISO 8601 UTC text ('YYYY-MM-DDTHH:MM:SSZ'), which sorts chronologically as text.

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    global_id     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    account_name  TEXT NOT NULL,
    service_plan  TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE profiles (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    name         TEXT NOT NULL,
    UNIQUE (customer_id, name)
);

CREATE TABLE storage_regions (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    name         TEXT NOT NULL,
    UNIQUE (customer_id, name)
);

CREATE TABLE users (
    id                      INTEGER PRIMARY KEY,
    customer_id             INTEGER NOT NULL REFERENCES customers(id),
    user_name               TEXT NOT NULL,
    email                   TEXT NOT NULL,
    profile_id              INTEGER NOT NULL REFERENCES profiles(id),
    storage_region_id       INTEGER REFERENCES storage_regions(id),
    status                  TEXT NOT NULL CHECK (status IN ('Active', 'Preserved', 'Pending')),
    license                 TEXT NOT NULL CHECK (license IN ('active', 'preserved', '-')),
    usage_mb                INTEGER NOT NULL DEFAULT 0 CHECK (usage_mb >= 0),
    created_at              TEXT NOT NULL,
    managed_by              TEXT NOT NULL DEFAULT '-',
    -- Empty when the customer has no User-Identifier Custom Attribute configured.
    custom_attribute_name   TEXT NOT NULL DEFAULT '',
    custom_attribute_value  TEXT NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX users_customer_email ON users (customer_id, email COLLATE NOCASE);
CREATE INDEX users_customer ON users (customer_id, id);
-- Keyset paging walks these indexes, so page N costs what page 1 costs.
CREATE INDEX users_by_name ON users (user_name COLLATE NOCASE, id);
CREATE INDEX users_by_email ON users (email COLLATE NOCASE, id);
CREATE INDEX users_by_usage ON users (usage_mb, id);
CREATE INDEX users_by_created ON users (created_at, id);
CREATE INDEX users_by_status ON users (status, id);
CREATE INDEX users_by_license ON users (license, id);
CREATE INDEX users_by_managed_by ON users (managed_by, id);

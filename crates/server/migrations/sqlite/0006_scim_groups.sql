-- SCIM groups of a customer and their members: what mapping rules match users on.

CREATE TABLE scim_groups (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES customers(id),
    scim_id         TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    external_id     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX scim_groups_name ON scim_groups (customer_id, display_name COLLATE NOCASE);

CREATE TABLE scim_group_members (
    group_id    INTEGER NOT NULL REFERENCES scim_groups(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX scim_group_members_user ON scim_group_members (user_id);

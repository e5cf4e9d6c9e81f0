-- Per-admin column layouts and saved views of a report.

CREATE TABLE column_layouts (
    admin_id    INTEGER NOT NULL REFERENCES admins(id),
    report      TEXT NOT NULL,
    -- JSON of provisio_api::report::ColumnLayout.
    layout      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (admin_id, report)
);

CREATE TABLE saved_views (
    id              INTEGER PRIMARY KEY,
    owner_admin_id  INTEGER NOT NULL REFERENCES admins(id),
    report          TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- The query in its URL encoding, and the visible columns as a `cols` value.
    query           TEXT NOT NULL,
    columns         TEXT NOT NULL,
    shared          INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX saved_views_owner_name ON saved_views (owner_admin_id, report, name COLLATE NOCASE);

CREATE TABLE default_views (
    admin_id  INTEGER NOT NULL REFERENCES admins(id),
    report    TEXT NOT NULL,
    view_id   INTEGER NOT NULL REFERENCES saved_views(id) ON DELETE CASCADE,
    PRIMARY KEY (admin_id, report)
);

-- Facet counts group users by profile; this index lets SQLite count without reading rows.
CREATE INDEX users_by_profile ON users (profile_id, id);

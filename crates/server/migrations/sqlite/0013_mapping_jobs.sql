-- Re-evaluations of a customer's users after a mapping change: run in batches by the server,
-- their progress read by every instance. A newer job of the same customer supersedes a
-- running one (it evaluates by the newer mappings anyway).
CREATE TABLE mapping_jobs (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    state        TEXT NOT NULL CHECK (state IN ('running', 'done', 'superseded')),
    -- The customer's SCIM users when the job started, and how many it has evaluated.
    total        INTEGER NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0,
    -- How many of those it moved.
    changed      INTEGER NOT NULL DEFAULT 0,
    -- The last user (by row id) evaluated: a restarted server resumes after it.
    last_user_id INTEGER NOT NULL DEFAULT 0,
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX mapping_jobs_customer ON mapping_jobs (customer_id, id);
CREATE INDEX mapping_jobs_running ON mapping_jobs (state) WHERE state = 'running';

-- Scenario sweeps: one submission that runs a version once per combination
-- of the inputs it varies. The runs are ordinary runs; sweep_runs gives
-- each its position in the grid, which is also its AWS Batch array index.
-- Times are milliseconds since the epoch, as everywhere in this database.
CREATE TABLE sweeps (
    id           INTEGER PRIMARY KEY,
    model_id     INTEGER NOT NULL REFERENCES models (id),
    version_id   INTEGER NOT NULL REFERENCES model_versions (id),
    submitted_by INTEGER NOT NULL REFERENCES users (id),
    inputs       TEXT    NOT NULL,        -- JSON object: the inputs every run shares
    axes         TEXT    NOT NULL,        -- JSON array of {field, values}, grid order
    run_count    INTEGER NOT NULL CHECK (run_count > 0),
    submit_key   TEXT,
    job_key      TEXT    NOT NULL,
    job_id       TEXT,
    created_at   INTEGER NOT NULL,
    cancelled_at INTEGER,
    notified_at  INTEGER                  -- when its submitter was emailed that it ended
);
CREATE UNIQUE INDEX sweeps_submit_key ON sweeps (submitted_by, submit_key)
    WHERE submit_key IS NOT NULL;
CREATE INDEX sweeps_by_submitter ON sweeps (submitted_by, id);

CREATE TABLE sweep_runs (
    sweep_id INTEGER NOT NULL REFERENCES sweeps (id),
    position INTEGER NOT NULL CHECK (position >= 0),
    run_id   INTEGER NOT NULL UNIQUE REFERENCES runs (id),
    PRIMARY KEY (sweep_id, position)
);

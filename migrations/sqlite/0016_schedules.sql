-- Schedules: a version (pinned, or the model's latest active one when
-- version_id is NULL) run with fixed inputs on a cron rule in a time zone.
-- A deleted schedule keeps its row, so that its runs still say which
-- schedule made them; only schedules not deleted need unique names, and
-- only per owner: one person's names say nothing of another's schedules,
-- which they may not be allowed to see (run visibility `own`).
-- Times are milliseconds since the epoch, as everywhere in this database.
CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    model_id     INTEGER NOT NULL REFERENCES models (id),
    version_id   INTEGER REFERENCES model_versions (id),
    inputs       TEXT    NOT NULL,        -- JSON object, validated against the version
    cron         TEXT    NOT NULL,
    time_zone    TEXT    NOT NULL,
    owner_id     INTEGER NOT NULL REFERENCES users (id),
    paused       INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    next_fire_at INTEGER,
    created_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);
CREATE UNIQUE INDEX schedules_live_name ON schedules (owner_id, name) WHERE deleted_at IS NULL;
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE deleted_at IS NULL AND NOT paused;

-- One row per fired slot. The primary key (schedule, fire time) is what
-- makes a slot fire once: two workers that fire it at the same moment both
-- insert, in the transaction that also creates the run, and one of them
-- finds the key taken and writes nothing. A slot that made no run (its
-- owner was disabled, its inputs no longer fit) is kept with the reason.
CREATE TABLE schedule_fires (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id),
    fire_at     INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('run', 'skipped', 'failed')),
    run_id      INTEGER UNIQUE REFERENCES runs (id),
    message     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (schedule_id, fire_at)
);

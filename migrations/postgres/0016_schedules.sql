-- Schedules: a version (pinned, or the model's latest active one when
-- version_id is NULL) run with fixed inputs on a cron rule in a time zone.
-- A deleted schedule keeps its row, so that its runs still say which
-- schedule made them; only schedules not deleted need unique names, and
-- only per owner: one person's names say nothing of another's schedules,
-- which they may not be allowed to see (run visibility `own`).
CREATE TABLE schedules (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL,
    model_id     bigint      NOT NULL REFERENCES models (id),
    version_id   bigint      REFERENCES model_versions (id),
    inputs       jsonb       NOT NULL CHECK (jsonb_typeof(inputs) = 'object'),
    cron         text        NOT NULL,
    time_zone    text        NOT NULL,
    owner_id     bigint      NOT NULL REFERENCES users (id),
    paused       boolean     NOT NULL DEFAULT false,
    next_fire_at timestamptz,
    created_at   timestamptz NOT NULL,
    deleted_at   timestamptz
);
CREATE UNIQUE INDEX schedules_live_name ON schedules (owner_id, name) WHERE deleted_at IS NULL;
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE deleted_at IS NULL AND NOT paused;

-- One row per fired slot. The primary key (schedule, fire time) is what
-- makes a slot fire once: two workers that fire it at the same moment both
-- insert, in the transaction that also creates the run, and one of them
-- finds the key taken and writes nothing. A slot that made no run (its
-- owner was disabled, its inputs no longer fit) is kept with the reason.
CREATE TABLE schedule_fires (
    schedule_id bigint      NOT NULL REFERENCES schedules (id),
    fire_at     timestamptz NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('run', 'skipped', 'failed')),
    run_id      bigint      UNIQUE REFERENCES runs (id),
    message     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (schedule_id, fire_at)
);

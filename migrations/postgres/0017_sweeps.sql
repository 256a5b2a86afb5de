-- Scenario sweeps: one submission that runs a version once per combination
-- of the inputs it varies. The runs are ordinary runs; sweep_runs gives
-- each its position in the grid, which is also its AWS Batch array index.
CREATE TABLE sweeps (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id     bigint      NOT NULL REFERENCES models (id),
    version_id   bigint      NOT NULL REFERENCES model_versions (id),
    submitted_by bigint      NOT NULL REFERENCES users (id),
    inputs       jsonb       NOT NULL CHECK (jsonb_typeof(inputs) = 'object'),
    axes         jsonb       NOT NULL CHECK (jsonb_typeof(axes) = 'array'),
    run_count    bigint      NOT NULL CHECK (run_count > 0),
    submit_key   text,
    job_key      text        NOT NULL,
    job_id       text,
    created_at   timestamptz NOT NULL,
    cancelled_at timestamptz,
    notified_at  timestamptz              -- when its submitter was emailed that it ended
);
CREATE UNIQUE INDEX sweeps_submit_key ON sweeps (submitted_by, submit_key)
    WHERE submit_key IS NOT NULL;
CREATE INDEX sweeps_by_submitter ON sweeps (submitted_by, id);

CREATE TABLE sweep_runs (
    sweep_id bigint NOT NULL REFERENCES sweeps (id),
    position bigint NOT NULL CHECK (position >= 0),
    run_id   bigint NOT NULL UNIQUE REFERENCES runs (id),
    PRIMARY KEY (sweep_id, position)
);

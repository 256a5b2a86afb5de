-- What a run was expected to take when it was submitted, kept beside the
-- run so that its page can show the actual duration and cost next to it.
-- A table of its own: the estimate is advice, written once after the run,
-- and a run without one (made before estimates, or whose estimate could not
-- be written) is still a whole run.
CREATE TABLE run_estimates (
    run_id     bigint      PRIMARY KEY REFERENCES runs (id),
    estimate   jsonb       NOT NULL,  -- core::estimate::Estimate, prices included
    created_at timestamptz NOT NULL
);

-- Monthly limits in US cents: `installation` (the team), or `user:<id>`.
CREATE TABLE budgets (
    scope         text        PRIMARY KEY,
    user_id       bigint      REFERENCES users (id) ON DELETE CASCADE,
    monthly_cents bigint      NOT NULL CHECK (monthly_cents > 0),
    set_by        text        NOT NULL,
    set_at        timestamptz NOT NULL,
    CHECK ((scope = 'installation') = (user_id IS NULL))
);

-- A version's latest succeeded runs (the duration statistics), and the
-- runs that started in a month (budgets).
CREATE INDEX runs_succeeded_by_version ON runs (version_id, finished_at DESC)
    WHERE status = 'succeeded';
CREATE INDEX runs_by_start ON runs (started_at);

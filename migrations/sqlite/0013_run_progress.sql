-- The latest progress a run's model reported (a `::progress 0.4 fitting`
-- line of its output): one row a run, replaced by each report, which the
-- executor sends at most about once a second. A table of its own, not
-- columns of runs: a report is frequent and small, and must never wait on
-- (or hold) the row lock a status change takes.
CREATE TABLE run_progress (
    run_id      INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    fraction    REAL    NOT NULL CHECK (fraction >= 0 AND fraction <= 1),
    message     TEXT,
    reported_at INTEGER NOT NULL            -- milliseconds since the Unix epoch
);

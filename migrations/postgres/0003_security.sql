-- Security: one-time submit keys, rate-limit counters and the audit log.

-- A form's one-time key (or an API client's Idempotency-Key): a second
-- submit with the same key by the same person finds the first run.
ALTER TABLE runs ADD COLUMN submit_key text;
CREATE UNIQUE INDEX runs_submit_key ON runs (submitted_by, submit_key)
    WHERE submit_key IS NOT NULL;
-- Own-only visibility and the submitter filter list one person's runs.
CREATE INDEX runs_by_submitter ON runs (submitted_by, id DESC);

-- Fixed-window counters: `hits` attempts since `window_start` for a key
-- such as `sign-in:account:ann@example.com`.
CREATE TABLE rate_limits (
    key          text        PRIMARY KEY,
    window_start timestamptz NOT NULL,
    window_ms    bigint      NOT NULL,
    hits         bigint      NOT NULL
);

-- Who did what, when and from where. Appended, never updated. The actor's
-- name is copied so that the entry outlives a renamed or deleted user.
CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL,
    actor_id bigint      REFERENCES users (id) ON DELETE SET NULL,
    actor    text        NOT NULL,
    action   text        NOT NULL,
    target   text        NOT NULL,
    detail   jsonb       NOT NULL CHECK (jsonb_typeof(detail) = 'object'),
    address  text        NOT NULL
);
CREATE INDEX audit_by_action ON audit_log (action, id DESC);

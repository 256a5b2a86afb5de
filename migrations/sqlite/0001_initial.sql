-- modelrun on SQLite: the embedded default.
--
-- Timestamps are INTEGER milliseconds since the Unix epoch: they compare and
-- sort correctly, which TEXT timestamps only do while every writer formats
-- them identically.
-- JSON columns hold TEXT that SQLite's json functions can read.
-- Statuses and states are TEXT with CHECK constraints listing every value.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,   -- stored lowercase
    password_hash TEXT    NOT NULL,          -- argon2 PHC string
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'runner', 'admin')),
    created_at    INTEGER NOT NULL
);

-- A session is found by the SHA-256 of its cookie value, so that reading
-- this table does not hand out live sessions.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,    -- SHA-256 of the token
    prefix       TEXT    NOT NULL,           -- first characters, for people to tell tokens apart
    role         TEXT    NOT NULL CHECK (role IN ('viewer', 'runner', 'admin')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE models (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Versions are immutable. The only later writes are retired_at and, once,
-- job_definition_arn (set by the task that registers it with AWS Batch).
CREATE TABLE model_versions (
    id                 INTEGER PRIMARY KEY,
    model_id           INTEGER NOT NULL REFERENCES models (id),
    label              TEXT    NOT NULL,
    digest             TEXT    NOT NULL,
    runtime            TEXT    NOT NULL,     -- JSON: {"kind": "local" | "image", ...}
    input_schema       TEXT    NOT NULL,     -- JSON Schema, checked at registration
    vcpu               REAL    NOT NULL,
    memory_mib         INTEGER NOT NULL,
    timeout_seconds    INTEGER NOT NULL,
    source_commit      TEXT,
    registered_via     TEXT    NOT NULL,
    registered_at      INTEGER NOT NULL,
    job_definition_arn TEXT,
    retired_at         INTEGER,
    UNIQUE (model_id, label)
);

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    model_id        INTEGER NOT NULL REFERENCES models (id),
    version_id      INTEGER NOT NULL REFERENCES model_versions (id),
    submitted_by    INTEGER NOT NULL REFERENCES users (id),
    inputs          TEXT    NOT NULL,        -- JSON object, validated against the version
    vcpu            REAL    NOT NULL,
    memory_mib      INTEGER NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN (
                        'queued', 'dispatching', 'submitted', 'pending', 'runnable',
                        'starting', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled')),
    status_reason   TEXT,
    job_id          TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER
);
-- The run list pages by id, newest first, optionally within a model or a status.
CREATE INDEX runs_by_model  ON runs (model_id, id DESC);
CREATE INDEX runs_by_status ON runs (status, id DESC);

-- Append-only: a row is never updated or deleted.
CREATE TABLE run_events (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs (id),
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('status', 'fact')),
    status  TEXT,
    message TEXT    NOT NULL,
    data    TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX run_events_by_run ON run_events (run_id, id);

CREATE TABLE run_outputs (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    name         TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    content_type TEXT    NOT NULL,
    sha256       TEXT,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after    INTEGER NOT NULL,
    locked_until INTEGER,                    -- lease end; NULL when nobody holds it
    lease        TEXT,                       -- token of the current lease holder
    last_error   TEXT,
    dedupe_key   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- Claims scan queued tasks by due time.
CREATE INDEX tasks_due ON tasks (run_after) WHERE state = 'queued';
-- At most one queued task per dedupe key; finished ones may repeat it.
CREATE UNIQUE INDEX tasks_dedupe ON tasks (dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL;
CREATE INDEX tasks_by_state ON tasks (state, id DESC);

CREATE TABLE emails (
    id          INTEGER PRIMARY KEY,
    to_address  TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    text_body   TEXT    NOT NULL,
    html_body   TEXT    NOT NULL,
    run_id      INTEGER REFERENCES runs (id),
    status      TEXT    NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    provider_id TEXT,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
);

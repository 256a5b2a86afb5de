-- modelrun on Postgres: the production store.
--
-- The same tables as migrations/sqlite, in Postgres's own types: bigint
-- identity keys, timestamptz, jsonb, and CHECK constraints that list every
-- status. Every backend passes one conformance suite (db/tests/conformance).

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL UNIQUE,       -- stored lowercase
    password_hash text        NOT NULL,              -- argon2 PHC string
    role          text        NOT NULL CHECK (role IN ('viewer', 'runner', 'admin')),
    created_at    timestamptz NOT NULL
);

-- A session is found by the SHA-256 of its cookie value, so that reading
-- this table does not hand out live sessions.
CREATE TABLE sessions (
    token_hash   text        PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    token_hash   text        NOT NULL UNIQUE,        -- SHA-256 of the token
    prefix       text        NOT NULL,
    role         text        NOT NULL CHECK (role IN ('viewer', 'runner', 'admin')),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE models (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    title       text        NOT NULL,
    description text        NOT NULL,
    owner       text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Versions are immutable. The only later writes are retired_at and, once,
-- job_definition_arn (set by the task that registers it with AWS Batch).
CREATE TABLE model_versions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id           bigint           NOT NULL REFERENCES models (id),
    label              text             NOT NULL,
    digest             text             NOT NULL,
    runtime            jsonb            NOT NULL,  -- {"kind": "local" | "image", ...}
    -- json, not jsonb: jsonb reorders keys, and the order of the properties
    -- is the order of the fields on the form.
    input_schema       json             NOT NULL,  -- JSON Schema, checked at registration
    vcpu               double precision NOT NULL,
    memory_mib         bigint           NOT NULL,
    timeout_seconds    bigint           NOT NULL,
    source_commit      text,
    registered_via     text             NOT NULL,
    registered_at      timestamptz      NOT NULL,
    job_definition_arn text,
    retired_at         timestamptz,
    UNIQUE (model_id, label)
);

CREATE TABLE runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id        bigint           NOT NULL REFERENCES models (id),
    version_id      bigint           NOT NULL REFERENCES model_versions (id),
    submitted_by    bigint           NOT NULL REFERENCES users (id),
    inputs          jsonb            NOT NULL CHECK (jsonb_typeof(inputs) = 'object'),
    vcpu            double precision NOT NULL,
    memory_mib      bigint           NOT NULL,
    timeout_seconds bigint           NOT NULL,
    status          text             NOT NULL CHECK (status IN (
                        'queued', 'dispatching', 'submitted', 'pending', 'runnable',
                        'starting', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled')),
    status_reason   text,
    job_id          text,
    created_at      timestamptz      NOT NULL,
    updated_at      timestamptz      NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz
);
-- The run list pages by id, newest first, optionally within a model or a status.
CREATE INDEX runs_by_model  ON runs (model_id, id DESC);
CREATE INDEX runs_by_status ON runs (status, id DESC);
-- The sweep reads the active runs only; they are few among many.
CREATE INDEX runs_active ON runs (id)
    WHERE status NOT IN ('succeeded', 'failed', 'cancelled');

-- Append-only: a row is never updated or deleted.
CREATE TABLE run_events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id  bigint      NOT NULL REFERENCES runs (id),
    at      timestamptz NOT NULL,
    kind    text        NOT NULL CHECK (kind IN ('status', 'fact')),
    status  text,
    message text        NOT NULL,
    data    jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX run_events_by_run ON run_events (run_id, id);

CREATE TABLE run_outputs (
    run_id       bigint NOT NULL REFERENCES runs (id),
    name         text   NOT NULL,
    size         bigint NOT NULL,
    content_type text   NOT NULL,
    sha256       text,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE tasks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL,
    payload      jsonb       NOT NULL,
    state        text        NOT NULL CHECK (state IN ('queued', 'done', 'dead')),
    attempts     integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL,
    run_after    timestamptz NOT NULL,
    locked_until timestamptz,                -- lease end; NULL when nobody holds it
    lease        text,                       -- token of the current lease holder
    last_error   text,
    dedupe_key   text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
-- Claims scan queued tasks by due time with FOR UPDATE SKIP LOCKED; the
-- partial index keeps finished tasks, however many, out of that scan.
CREATE INDEX tasks_due ON tasks (run_after, id) WHERE state = 'queued';
-- At most one queued task per dedupe key; finished ones may repeat it.
CREATE UNIQUE INDEX tasks_dedupe ON tasks (dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL;
CREATE INDEX tasks_by_state ON tasks (state, id DESC);

CREATE TABLE emails (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    to_address  text        NOT NULL,
    subject     text        NOT NULL,
    text_body   text        NOT NULL,
    html_body   text        NOT NULL,
    run_id      bigint REFERENCES runs (id),
    status      text        NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    provider_id text,
    last_error  text,
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz
);

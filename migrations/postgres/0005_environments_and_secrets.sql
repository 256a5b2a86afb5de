-- Model environments: one row per requirements digest (the requirements
-- and the interpreter), shared by every version with the same ones. The
-- virtual environment itself is on the disk of the machine that runs the
-- model; this row says how its build went.
CREATE TABLE environments (
    digest     text        PRIMARY KEY,
    spec       jsonb       NOT NULL,          -- requirements, python, interpreter
    status     text        NOT NULL CHECK (status IN ('pending', 'preparing', 'ready', 'failed')),
    log        text        NOT NULL DEFAULT '',  -- the end of the installer's output
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- A version names its environment (if its manifest declares one) and the
-- secrets its model reads.
ALTER TABLE model_versions ADD COLUMN environment text REFERENCES environments (digest);
ALTER TABLE model_versions ADD COLUMN secrets jsonb NOT NULL DEFAULT '[]';  -- array of names

-- Secret values on one machine, sealed with the installation's key
-- (XChaCha20-Poly1305, bound to the model and name); never read back by an
-- API. On AWS the values live in Secrets Manager instead and this table
-- stays empty.
CREATE TABLE model_secrets (
    model_id   bigint      NOT NULL REFERENCES models (id),
    name       text        NOT NULL,
    sealed     text        NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text        NOT NULL,
    PRIMARY KEY (model_id, name)
);

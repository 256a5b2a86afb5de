-- Model environments: one row per requirements digest (the requirements
-- and the interpreter), shared by every version with the same ones. The
-- virtual environment itself is on the disk of the machine that runs the
-- model; this row says how its build went.
CREATE TABLE environments (
    digest     TEXT    PRIMARY KEY,
    spec       TEXT    NOT NULL,          -- JSON: requirements, python, interpreter
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'preparing', 'ready', 'failed')),
    log        TEXT    NOT NULL DEFAULT '',  -- the end of the installer's output
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A version names its environment (if its manifest declares one) and the
-- secrets its model reads.
ALTER TABLE model_versions ADD COLUMN environment TEXT REFERENCES environments (digest);
ALTER TABLE model_versions ADD COLUMN secrets TEXT NOT NULL DEFAULT '[]';  -- JSON array of names

-- Secret values on one machine, sealed with the installation's key
-- (XChaCha20-Poly1305, bound to the model and name); never read back by an API.
CREATE TABLE model_secrets (
    model_id   INTEGER NOT NULL REFERENCES models (id),
    name       TEXT    NOT NULL,
    sealed     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL,
    PRIMARY KEY (model_id, name)
);

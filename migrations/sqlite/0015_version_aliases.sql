-- no-transaction
-- Candidate and production versions, and the data-science role.
--
-- Runs without a transaction of sqlx's own: SQLite cannot change a CHECK
-- constraint in place, so users and api_tokens are rebuilt with the new
-- role, which needs foreign keys off (a pragma that does nothing inside a
-- transaction). The rebuild itself is one transaction.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,   -- stored lowercase
    password_hash TEXT    NOT NULL,          -- argon2 PHC string
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'runner', 'scientist', 'admin')),
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER,
    time_zone     TEXT,
    number_style  TEXT
);
INSERT INTO users_new (id, email, password_hash, role, created_at, disabled_at, time_zone,
                       number_style)
    SELECT id, email, password_hash, role, created_at, disabled_at, time_zone, number_style
    FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TABLE api_tokens_new (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,    -- SHA-256 of the token
    prefix       TEXT    NOT NULL,           -- first characters, for people to tell tokens apart
    role         TEXT    NOT NULL CHECK (role IN ('viewer', 'runner', 'scientist', 'admin')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
INSERT INTO api_tokens_new (id, user_id, name, token_hash, prefix, role, created_at, expires_at,
                            last_used_at, revoked_at)
    SELECT id, user_id, name, token_hash, prefix, role, created_at, expires_at, last_used_at,
           revoked_at
    FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- A model's one production version is a column of the model, so that two
-- can never exist: promoting is one UPDATE. NULL until the model has one.
ALTER TABLE models ADD COLUMN production_version_id INTEGER REFERENCES model_versions (id);

-- Nothing changes for users: the version runs used by default until now,
-- the newest active one, becomes production.
UPDATE models SET production_version_id = (
    SELECT max(v.id) FROM model_versions v
    WHERE v.model_id = models.id AND v.retired_at IS NULL
);

-- What a run ran under, recorded when it is created. NULL for runs made
-- before versions had aliases: nobody knows.
ALTER TABLE runs ADD COLUMN alias TEXT CHECK (alias IN ('production', 'candidate'));

COMMIT;
PRAGMA foreign_keys = ON;

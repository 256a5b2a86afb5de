-- Candidate and production versions, and the data-science role.

-- The data-science role sits between runner and admin: it runs candidate
-- versions.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('viewer', 'runner', 'scientist', 'admin'));
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('viewer', 'runner', 'scientist', 'admin'));

-- A model's one production version is a column of the model, so that two
-- can never exist: promoting is one UPDATE. NULL until the model has one.
ALTER TABLE models ADD COLUMN production_version_id BIGINT REFERENCES model_versions (id);

-- Nothing changes for users: the version runs used by default until now,
-- the newest active one, becomes production.
UPDATE models SET production_version_id = (
    SELECT max(v.id) FROM model_versions v
    WHERE v.model_id = models.id AND v.retired_at IS NULL
);

-- What a run ran under, recorded when it is created. NULL for runs made
-- before versions had aliases: nobody knows.
ALTER TABLE runs ADD COLUMN alias text CHECK (alias IN ('production', 'candidate'));

-- A version may declare that its runs use no network (`network = false`):
-- the local sandbox then gives them a network namespace of their own.
ALTER TABLE model_versions ADD COLUMN network INTEGER NOT NULL DEFAULT 1 CHECK (network IN (0, 1));

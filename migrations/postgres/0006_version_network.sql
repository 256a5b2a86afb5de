-- A version may declare that its runs use no network (`network = false`):
-- the local sandbox then gives them a network namespace of their own.
ALTER TABLE model_versions ADD COLUMN network boolean NOT NULL DEFAULT true;

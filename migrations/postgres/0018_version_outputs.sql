-- A version may declare its charts and key figures (the manifest's
-- `[outputs]`): JSON as core::outputs::Outputs writes it. Versions
-- registered before declarations have none, and their pages guess.
ALTER TABLE model_versions ADD COLUMN outputs jsonb NOT NULL DEFAULT '{}';

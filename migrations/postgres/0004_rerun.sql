-- A run started with "Run again" names the run it came from.
ALTER TABLE runs ADD COLUMN rerun_of bigint REFERENCES runs (id);

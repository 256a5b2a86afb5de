-- Every installation has an identity, made once here. Batch jobs carry it
-- in a tag, and object keys in a shared bucket go under it, so that two
-- installations sharing a job queue and a bucket (a database restored or
-- reset, staging beside production) never take each other's jobs or
-- outputs. An installation that already had runs keeps its objects where
-- they are (scoped_storage = false).
CREATE TABLE installation (
    id             text PRIMARY KEY,
    scoped_storage boolean NOT NULL,
    created_at     timestamptz NOT NULL
);
INSERT INTO installation (id, scoped_storage, created_at)
SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 12),
       NOT EXISTS (SELECT 1 FROM runs),
       now();

-- A run's own random key: its job's name and tags carry it, and a job
-- without it is never taken for the run's (runs made before have none).
ALTER TABLE runs ADD COLUMN job_key text;
-- Runs not yet handed to an executor get one now.
UPDATE runs SET job_key = substr(md5(random()::text || id::text), 1, 16) WHERE status = 'queued';

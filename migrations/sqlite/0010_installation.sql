-- Every installation has an identity, made once here. Batch jobs carry it
-- in a tag, and object keys in a shared bucket go under it, so that two
-- installations sharing a job queue and a bucket (a database restored or
-- reset, staging beside production) never take each other's jobs or
-- outputs. An installation that already had runs keeps its objects where
-- they are (scoped_storage = 0).
CREATE TABLE installation (
    id             TEXT PRIMARY KEY,
    scoped_storage INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
INSERT INTO installation (id, scoped_storage, created_at)
SELECT lower(hex(randomblob(6))),
       CASE WHEN EXISTS (SELECT 1 FROM runs) THEN 0 ELSE 1 END,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000;

-- A run's own random key: its job's name and tags carry it, and a job
-- without it is never taken for the run's (runs made before have none).
ALTER TABLE runs ADD COLUMN job_key TEXT;
-- Runs not yet handed to an executor get one now.
UPDATE runs SET job_key = lower(hex(randomblob(8))) WHERE status = 'queued';

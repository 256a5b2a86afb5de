-- Which attempt of its job a run is on. AWS Batch retries a job after an
-- infrastructure fault (the host went away, the image could not be pulled):
-- the job goes from RUNNING back to RUNNABLE as attempt 2. The run follows
-- it, instead of ignoring the move as a stale report.
ALTER TABLE runs ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1;

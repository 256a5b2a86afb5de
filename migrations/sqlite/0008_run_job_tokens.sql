-- A run dispatched to AWS Batch gets a job token: the job trades it at the
-- job API for presigned URLs to its own inputs and outputs. Only the
-- SHA-256 of each token is kept. A retried dispatch adds a token; every
-- token of a run stops working when the run ends.
CREATE TABLE run_job_tokens (
    token_hash TEXT PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX run_job_tokens_by_run ON run_job_tokens (run_id);

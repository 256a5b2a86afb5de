-- Where a run's log is kept by the executor (a CloudWatch Logs stream for
-- AWS Batch), once the executor says. Local runs keep their log in the data
-- directory and leave it NULL.
ALTER TABLE runs ADD COLUMN log_stream text;

-- An administrator may disable an account: it can no longer sign in, and its
-- sessions and API tokens stop working until it is enabled again.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

-- The most one run of a version may ask for (`[resources.max]` of its
-- manifest). NULL for versions registered before runs could ask: their
-- runs may ask for no more than the version's own vcpu, memory_mib and
-- timeout_seconds, which the store reads in their place.
ALTER TABLE model_versions ADD COLUMN max_vcpu REAL;
ALTER TABLE model_versions ADD COLUMN max_memory_mib INTEGER;
ALTER TABLE model_versions ADD COLUMN max_timeout_seconds INTEGER;

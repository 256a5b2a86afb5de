-- How a person reads times and numbers. NULL time_zone means "the
-- browser's"; NULL number_style means the default (1,234.5). Both are
-- checked by the application, which knows the IANA names, so no CHECK here.
ALTER TABLE users ADD COLUMN time_zone TEXT;
ALTER TABLE users ADD COLUMN number_style TEXT;

-- A budget document imported in chat waits for the admin's confirmation before residents see it;
-- who published it and when are kept (the import's own who and when are already there).
ALTER TABLE budget_versions ADD COLUMN published_at TEXT;
ALTER TABLE budget_versions ADD COLUMN published_by INTEGER REFERENCES users (id);
UPDATE budget_versions SET published_at = imported_at;

-- A round keeps the ballot's rule it opened with (the municipality file's [budget.pb] at that
-- moment): 'total' (projects within the round's total) or 'projects' (up to max_projects), so a
-- file changed while voting is open (and the bot restarted) does not change an open round's rule.
-- NULL: not opened yet, or opened before this version (the file's rule then, as before).
ALTER TABLE pb_rounds ADD COLUMN rule TEXT CHECK (rule IN ('total', 'projects'));
ALTER TABLE pb_rounds ADD COLUMN max_projects INTEGER CHECK (max_projects > 0);

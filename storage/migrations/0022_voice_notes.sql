-- Voice notes: a report's description may be one, and so may a comment, an answer or a staff
-- reply in its history. The path is relative to the data folder (voice/), like photos'.
ALTER TABLE reports ADD COLUMN voice TEXT;
ALTER TABLE report_events ADD COLUMN voice TEXT;

-- Reports whose photos staff keep as evidence: an erasure and the retention job spare them.
CREATE TABLE report_evidence (
    report_id  INTEGER PRIMARY KEY REFERENCES reports (id),
    marked_by  INTEGER REFERENCES users (id),
    at         TEXT NOT NULL
);

-- When a report's personal data was erased (by its resident, or by the retention job).
ALTER TABLE reports ADD COLUMN anonymised_at TEXT;
CREATE INDEX reports_to_anonymise ON reports (status, updated_at) WHERE anonymised_at IS NULL;

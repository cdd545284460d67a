-- Open data: a report is public unless staff mark it not public; where it came from; the tokens
-- and contact details of reports filed through the Open311 API (contacts are never published).
ALTER TABLE reports ADD COLUMN public INTEGER NOT NULL DEFAULT 1;
ALTER TABLE reports ADD COLUMN source TEXT NOT NULL DEFAULT 'chat';
CREATE INDEX reports_public_by_created ON reports (public, created_at);

CREATE TABLE open311_tokens (
    token      TEXT    PRIMARY KEY,
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    client     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE report_contacts (
    report_id   INTEGER PRIMARY KEY REFERENCES reports (id),
    first_name  TEXT,
    last_name   TEXT,
    email       TEXT,
    phone       TEXT,
    device_id   TEXT,
    account_id  TEXT
);

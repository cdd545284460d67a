-- Staff: the services an operator works for (JSON list); roles are in users.role.
ALTER TABLE users ADD COLUMN services TEXT NOT NULL DEFAULT '[]';

-- Staff added by an admin with /staff add (the municipality file's staff are added at start).
CREATE TABLE staff_members (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    role         TEXT NOT NULL,
    services     TEXT NOT NULL DEFAULT '[]',
    added_by     INTEGER REFERENCES users (id),
    at           TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
) WITHOUT ROWID;

-- Messages the bot sent that it may edit later (a report's card in a staff chat).
CREATE TABLE message_refs (
    channel     TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    key         TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id, key)
) WITHOUT ROWID;

-- When a report was acknowledged and resolved (for /stats and the fix question).
ALTER TABLE reports ADD COLUMN resolved_at TEXT;
ALTER TABLE reports ADD COLUMN acknowledged_at TEXT;
CREATE INDEX reports_by_status ON reports (status, resolved_at);

ALTER TABLE report_events ADD COLUMN public INTEGER NOT NULL DEFAULT 1;
ALTER TABLE report_events ADD COLUMN photo TEXT;

-- A resident may ask for their name not to be shown to the staff.
ALTER TABLE reports ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;

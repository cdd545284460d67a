-- Outbox ids are never handed out twice (AUTOINCREMENT). A plain rowid is max(rowid) + 1, so
-- the ids of the newest rows come back once those rows are purged, and a mark made by id
-- could then land on another message. (A rolled-back insert gives its id back either way; the
-- sender only ever holds ids of committed rows, read through the read-only connection.)
-- failing_since: when the row's current run of failures began, for the cap on its retries.
CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    channel          TEXT    NOT NULL,
    chat_id          TEXT    NOT NULL,
    user_id          INTEGER REFERENCES users (id),
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    sent_at          TEXT,
    error            TEXT,
    broadcast_id     INTEGER REFERENCES broadcasts (id),
    failing_since    TEXT
);
INSERT INTO outbox_new (id, channel, chat_id, user_id, payload, status, attempts,
                        next_attempt_at, created_at, sent_at, error, broadcast_id)
    SELECT id, channel, chat_id, user_id, payload, status, attempts,
           next_attempt_at, created_at, sent_at, error, broadcast_id
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_pending_by_chat ON outbox (channel, chat_id, id) WHERE status = 'pending';
CREATE INDEX outbox_by_broadcast ON outbox (broadcast_id, status);

-- Users of every messenger; a user is one person on one messenger.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    channel       TEXT    NOT NULL,
    external_id   TEXT    NOT NULL,
    chat_id       TEXT    NOT NULL,
    first_name    TEXT    NOT NULL DEFAULT '',
    language      TEXT,
    role          TEXT    NOT NULL DEFAULT 'resident',
    unreachable   INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    UNIQUE (channel, external_id)
);

-- Where each user is in a conversation: a namespaced state and a JSON draft.
CREATE TABLE conversations (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id),
    state       TEXT NOT NULL,
    draft       TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL
);

CREATE TABLE reports (
    id           INTEGER PRIMARY KEY,
    ref          TEXT    NOT NULL UNIQUE,
    year         INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    category     TEXT    NOT NULL,
    service      TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    latitude     REAL,
    longitude    REAL,
    address      TEXT,
    status       TEXT    NOT NULL DEFAULT 'new',
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    sla_due_at   TEXT    NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX reports_by_user ON reports (user_id, id);
CREATE INDEX reports_by_service_status ON reports (service, status);

CREATE TABLE report_photos (
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    position   INTEGER NOT NULL,
    path       TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    file_id    TEXT    NOT NULL,
    PRIMARY KEY (report_id, position)
);

-- The history of a report: status changes, replies, notes, questions, re-routing.
CREATE TABLE report_events (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    at          TEXT    NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    kind        TEXT    NOT NULL,
    old_status  TEXT,
    new_status  TEXT,
    text        TEXT
);
CREATE INDEX report_events_by_report ON report_events (report_id, id);

-- Every message to send, written in the same transaction as the change that caused it.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    channel          TEXT    NOT NULL,
    chat_id          TEXT    NOT NULL,
    user_id          INTEGER REFERENCES users (id),
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    sent_at          TEXT,
    error            TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);
CREATE INDEX outbox_by_chat ON outbox (channel, chat_id, status, id);

-- Messenger update ids already handled, so a redelivered update is handled once.
CREATE TABLE processed_updates (
    channel    TEXT NOT NULL,
    update_id  TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (channel, update_id)
) WITHOUT ROWID;

-- Report starts, to limit how many reports one resident can start in an hour.
CREATE TABLE report_starts (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    at       TEXT    NOT NULL
);
CREATE INDEX report_starts_by_user ON report_starts (user_id, at);

CREATE TABLE geocode_cache (
    query       TEXT PRIMARY KEY,
    latitude    REAL,
    longitude   REAL,
    address     TEXT,
    at          TEXT NOT NULL
) WITHOUT ROWID;

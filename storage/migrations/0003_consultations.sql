-- Topics a resident wants to hear about.
CREATE TABLE subscriptions (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    topic    TEXT    NOT NULL,
    at       TEXT    NOT NULL,
    PRIMARY KEY (user_id, topic)
) WITHOUT ROWID;
CREATE INDEX subscriptions_by_topic ON subscriptions (topic, user_id);

-- Public consultations (from the municipality file, by key, or created by an admin).
CREATE TABLE consultations (
    id            INTEGER PRIMARY KEY,
    key           TEXT UNIQUE,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    place         TEXT NOT NULL,
    link          TEXT,
    announced_at  TEXT,
    minutes       TEXT,
    minutes_at    TEXT,
    created_by    INTEGER REFERENCES users (id),
    created_at    TEXT NOT NULL
);

-- Who asked for reminders and who said they would attend.
CREATE TABLE consultation_participants (
    consultation_id  INTEGER NOT NULL REFERENCES consultations (id),
    user_id          INTEGER NOT NULL REFERENCES users (id),
    remind           INTEGER NOT NULL DEFAULT 0,
    attend           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (consultation_id, user_id)
) WITHOUT ROWID;

CREATE TABLE consultation_comments (
    id               INTEGER PRIMARY KEY,
    consultation_id  INTEGER NOT NULL REFERENCES consultations (id),
    user_id          INTEGER NOT NULL REFERENCES users (id),
    text             TEXT    NOT NULL,
    photo            TEXT,
    at               TEXT    NOT NULL,
    answer           TEXT,
    answered_at      TEXT,
    answered_by      INTEGER REFERENCES users (id)
);
CREATE INDEX consultation_comments_by_user ON consultation_comments (user_id, id);

-- Reminders already sent, so a job that runs twice sends nothing twice.
CREATE TABLE reminders_sent (
    consultation_id  INTEGER NOT NULL,
    user_id          INTEGER NOT NULL,
    minutes_before   INTEGER NOT NULL,
    at               TEXT    NOT NULL,
    PRIMARY KEY (consultation_id, user_id, minutes_before)
) WITHOUT ROWID;

-- Announcements to a topic's subscribers; their messages are outbox rows.
CREATE TABLE broadcasts (
    id            INTEGER PRIMARY KEY,
    topic         TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    admin_id      INTEGER REFERENCES users (id),
    admin_channel TEXT,
    admin_chat    TEXT,
    total         INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    finished_at   TEXT
);
ALTER TABLE outbox ADD COLUMN broadcast_id INTEGER REFERENCES broadcasts (id);
CREATE INDEX outbox_by_broadcast ON outbox (broadcast_id, status);

-- SLA: when a late report was flagged to its service and escalated to the admins.
ALTER TABLE reports ADD COLUMN sla_flagged_at TEXT;
ALTER TABLE reports ADD COLUMN sla_escalated_at TEXT;

-- Daily digests already sent.
CREATE TABLE digests_sent (
    service  TEXT NOT NULL,
    day      TEXT NOT NULL,
    PRIMARY KEY (service, day)
) WITHOUT ROWID;

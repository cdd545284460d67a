-- Social protection: private questions to the Centre for Social Work, and anonymous feedback on a
-- right or service used. The feedback rows name no one and keep only the month; who has given
-- feedback on which right is kept apart (once each), without the answers.
CREATE TABLE social_questions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    text TEXT NOT NULL,
    at TEXT NOT NULL,
    answer TEXT,
    answered_by INTEGER REFERENCES users (id),
    answered_at TEXT
);

CREATE TABLE social_feedback (
    id INTEGER PRIMARY KEY,
    right_key TEXT NOT NULL,
    received INTEGER NOT NULL CHECK (received IN (0, 1)),
    rating TEXT CHECK (rating IS NULL OR rating IN ('good', 'fair', 'bad')),
    month TEXT NOT NULL
);
CREATE INDEX social_feedback_by_right ON social_feedback (right_key);

CREATE TABLE social_feedback_given (
    user_id INTEGER NOT NULL REFERENCES users (id),
    right_key TEXT NOT NULL,
    PRIMARY KEY (user_id, right_key)
);

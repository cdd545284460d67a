-- Residents' comments and questions on a measure of the action plan, and the staff's answers.
-- Private: only the resident and the measure's responsible staff see them.
CREATE TABLE plan_comments (
    id INTEGER PRIMARY KEY,
    measure_id INTEGER NOT NULL REFERENCES plan_measures (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    text TEXT NOT NULL,
    at TEXT NOT NULL,
    answer TEXT,
    answered_by INTEGER REFERENCES users (id),
    answered_at TEXT
);
CREATE INDEX plan_comments_by_measure ON plan_comments (measure_id, id);

-- The action plan: measures (a commitment and its activities), their milestones, every change as
-- an event with who and when, and the residents who follow a measure. A parent's progress is not
-- stored: it is computed from its children.
CREATE TABLE plan_measures (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES plan_measures (id),
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    responsible TEXT NOT NULL DEFAULT '',
    service TEXT,
    starts_on TEXT,
    ends_on TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('not_started', 'in_progress', 'done', 'late', 'dropped')),
    progress INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
    weight REAL CHECK (weight IS NULL OR weight > 0),
    -- The end date whose passing was already noticed (the late job tells followers once).
    late_for TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX plan_measures_by_parent ON plan_measures (parent_id, position);

CREATE TABLE plan_milestones (
    measure_id INTEGER NOT NULL REFERENCES plan_measures (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    due_on TEXT,
    text TEXT NOT NULL,
    done_on TEXT,
    PRIMARY KEY (measure_id, position)
);

CREATE TABLE plan_events (
    id INTEGER PRIMARY KEY,
    measure_id INTEGER NOT NULL REFERENCES plan_measures (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('progress', 'milestone', 'status', 'late')),
    old TEXT,
    new TEXT,
    text TEXT
);
CREATE INDEX plan_events_by_measure ON plan_events (measure_id, id);

CREATE TABLE plan_followers (
    measure_id INTEGER NOT NULL REFERENCES plan_measures (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    at TEXT NOT NULL,
    PRIMARY KEY (measure_id, user_id)
);
CREATE INDEX plan_followers_by_user ON plan_followers (user_id);

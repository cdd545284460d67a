-- Several plans (the local action plan, a plan for social inclusion, ...): a measure belongs to
-- the plan named in the municipality file, and its key is unique within that plan only.
-- `plan` is the plan's id from the municipality file; '' marks measures stored before plans had
-- ids: they belong to the file's default plan and take its id at the next start (or import).
--
-- The key's column constraint cannot be dropped, so the table is rebuilt (create, copy, drop,
-- rename) with its children: the connection enforces foreign keys and a migration runs in one
-- transaction, where PRAGMA foreign_keys cannot be switched off; dropping plan_measures would
-- then delete every milestone, event, follower and comment through ON DELETE CASCADE. So the
-- children are rebuilt too, pointing at the new table, and dropped before it. Ids are kept, and
-- the renames carry the references over to the final names (SQLite >= 3.26).
CREATE TABLE plan_measures_new (
    id INTEGER PRIMARY KEY,
    plan TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL,
    parent_id INTEGER REFERENCES plan_measures_new (id),
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
    updated_at TEXT NOT NULL,
    UNIQUE (plan, key)
);
INSERT INTO plan_measures_new (id, plan, key, parent_id, position, title, description,
                               responsible, service, starts_on, ends_on, status, progress,
                               weight, late_for, updated_at)
    SELECT id, '', key, parent_id, position, title, description, responsible, service,
           starts_on, ends_on, status, progress, weight, late_for, updated_at
    FROM plan_measures;

CREATE TABLE plan_milestones_new (
    measure_id INTEGER NOT NULL REFERENCES plan_measures_new (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    due_on TEXT,
    text TEXT NOT NULL,
    done_on TEXT,
    PRIMARY KEY (measure_id, position)
);
INSERT INTO plan_milestones_new (measure_id, position, due_on, text, done_on)
    SELECT measure_id, position, due_on, text, done_on FROM plan_milestones;

CREATE TABLE plan_events_new (
    id INTEGER PRIMARY KEY,
    measure_id INTEGER NOT NULL REFERENCES plan_measures_new (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('progress', 'milestone', 'status', 'late')),
    old TEXT,
    new TEXT,
    text TEXT
);
INSERT INTO plan_events_new (id, measure_id, at, actor_id, kind, old, new, text)
    SELECT id, measure_id, at, actor_id, kind, old, new, text FROM plan_events;

CREATE TABLE plan_followers_new (
    measure_id INTEGER NOT NULL REFERENCES plan_measures_new (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    at TEXT NOT NULL,
    PRIMARY KEY (measure_id, user_id)
);
INSERT INTO plan_followers_new (measure_id, user_id, at)
    SELECT measure_id, user_id, at FROM plan_followers;

CREATE TABLE plan_comments_new (
    id INTEGER PRIMARY KEY,
    measure_id INTEGER NOT NULL REFERENCES plan_measures_new (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    text TEXT NOT NULL,
    at TEXT NOT NULL,
    answer TEXT,
    answered_by INTEGER REFERENCES users (id),
    answered_at TEXT
);
INSERT INTO plan_comments_new (id, measure_id, user_id, text, at, answer, answered_by,
                               answered_at)
    SELECT id, measure_id, user_id, text, at, answer, answered_by, answered_at FROM plan_comments;

-- The children first: dropping them deletes nothing else; then the measures, whose only
-- remaining references are their own parent_id (all rows go in one statement).
DROP TABLE plan_comments;
DROP TABLE plan_followers;
DROP TABLE plan_events;
DROP TABLE plan_milestones;
DROP TABLE plan_measures;

ALTER TABLE plan_measures_new RENAME TO plan_measures;
ALTER TABLE plan_milestones_new RENAME TO plan_milestones;
ALTER TABLE plan_events_new RENAME TO plan_events;
ALTER TABLE plan_followers_new RENAME TO plan_followers;
ALTER TABLE plan_comments_new RENAME TO plan_comments;

CREATE INDEX plan_measures_by_parent ON plan_measures (parent_id, position);
CREATE INDEX plan_measures_by_plan ON plan_measures (plan, position, id);
CREATE INDEX plan_events_by_measure ON plan_events (measure_id, id);
CREATE INDEX plan_followers_by_user ON plan_followers (user_id);
CREATE INDEX plan_comments_by_measure ON plan_comments (measure_id, id);

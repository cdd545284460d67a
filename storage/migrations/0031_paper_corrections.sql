-- Paper ballots can be corrected: a clerk who mistyped a count sets it right (/pb paper 1 =11)
-- or takes votes back (/pb paper 1 -10). A correction is its own row, signed (the difference
-- from the count before it), so every addition and every correction stays on record and the
-- project's paper count is still the sum of its rows; the handler keeps that sum at zero or
-- above. SQLite cannot change a CHECK, so both tables are rebuilt: pb_paper_votes for signed
-- corrections, budget_events for the new action (nothing references either table).
CREATE TABLE pb_paper_votes_new (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES pb_projects (id),
    votes       INTEGER NOT NULL CHECK (votes <> 0),
    added_by    INTEGER REFERENCES users (id),
    at          TEXT    NOT NULL,
    corrects    INTEGER NOT NULL DEFAULT 0 CHECK (corrects IN (0, 1)),
    CHECK (votes > 0 OR corrects = 1)
);
INSERT INTO pb_paper_votes_new (id, project_id, votes, added_by, at)
    SELECT id, project_id, votes, added_by, at FROM pb_paper_votes;
DROP TABLE pb_paper_votes;
ALTER TABLE pb_paper_votes_new RENAME TO pb_paper_votes;
CREATE INDEX pb_paper_votes_by_project ON pb_paper_votes (project_id);

CREATE TABLE budget_events_new (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    action TEXT NOT NULL CHECK (action IN (
        'import_refused', 'import_previewed', 'import_published', 'import_dropped',
        'consultation_opened', 'consultation_closed',
        'answer_given', 'answer_changed',
        'round_prepared', 'project_added', 'round_opened', 'paper_votes', 'paper_corrected',
        'round_closed'
    )),
    object TEXT NOT NULL CHECK (object IN (
        'file', 'version', 'consultation', 'proposal', 'round', 'project'
    )),
    object_id INTEGER,
    detail TEXT NOT NULL DEFAULT '{}',
    text TEXT
);
INSERT INTO budget_events_new (id, at, actor_id, action, object, object_id, detail, text)
    SELECT id, at, actor_id, action, object, object_id, detail, text FROM budget_events;
DROP TABLE budget_events;
ALTER TABLE budget_events_new RENAME TO budget_events;
CREATE INDEX budget_events_by_object ON budget_events (object, object_id, id);

-- An open (or not yet started) budget consultation's dates can be changed by an admin
-- (/budget consult YEAR FROM TO on the one not closed), an audited action of its own. SQLite
-- cannot change a CHECK: budget_events is rebuilt with the new action (nothing references it).
CREATE TABLE budget_events_new (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    action TEXT NOT NULL CHECK (action IN (
        'import_refused', 'import_previewed', 'import_published', 'import_dropped',
        'consultation_opened', 'consultation_changed', 'consultation_closed',
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

-- The budget's staff actions, one entry each, written in the transaction of the action itself:
-- who (a staff user; NULL when the bot acted by the municipality file or the command line ran
-- the import), when, what, and the object it concerns (a budget version, a file refused whole,
-- a consultation, a proposal, a participatory budgeting round or project). ``detail`` holds the
-- action's facts as JSON (a version's kind and date, a verdict, paper votes); ``text`` the
-- staff's own words (the reason given to a resident), dropped with the proposal on its
-- author's erasure.
CREATE TABLE budget_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    action TEXT NOT NULL CHECK (action IN (
        'import_refused', 'import_previewed', 'import_published', 'import_dropped',
        'consultation_opened', 'consultation_closed',
        'answer_given', 'answer_changed',
        'round_prepared', 'project_added', 'round_opened', 'paper_votes', 'round_closed'
    )),
    object TEXT NOT NULL CHECK (object IN (
        'file', 'version', 'consultation', 'proposal', 'round', 'project'
    )),
    object_id INTEGER,
    detail TEXT NOT NULL DEFAULT '{}',
    text TEXT
);
CREATE INDEX budget_events_by_object ON budget_events (object, object_id, id);

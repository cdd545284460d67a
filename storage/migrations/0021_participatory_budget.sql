-- Participatory budgeting: a round's shortlist of projects with their costs and the total to
-- share; each resident's ballot is the set of projects they chose (one per account: the key);
-- paper ballots counted at the municipality are added by staff, each addition kept. Para amounts.
CREATE TABLE pb_rounds (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    total       INTEGER NOT NULL CHECK (total > 0),
    created_by  INTEGER REFERENCES users (id),
    created_at  TEXT    NOT NULL,
    opened_at   TEXT,
    opened_by   INTEGER REFERENCES users (id),
    closed_at   TEXT,
    closed_by   INTEGER REFERENCES users (id)
);

CREATE TABLE pb_projects (
    id        INTEGER PRIMARY KEY,
    round_id  INTEGER NOT NULL REFERENCES pb_rounds (id),
    name      TEXT    NOT NULL,
    cost      INTEGER NOT NULL CHECK (cost > 0),
    added_by  INTEGER REFERENCES users (id)
);
CREATE INDEX pb_projects_by_round ON pb_projects (round_id, id);

CREATE TABLE pb_votes (
    round_id    INTEGER NOT NULL REFERENCES pb_rounds (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    project_id  INTEGER NOT NULL REFERENCES pb_projects (id),
    at          TEXT    NOT NULL,
    PRIMARY KEY (round_id, user_id, project_id)
) WITHOUT ROWID;

CREATE TABLE pb_paper_votes (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES pb_projects (id),
    votes       INTEGER NOT NULL CHECK (votes > 0),
    added_by    INTEGER REFERENCES users (id),
    at          TEXT    NOT NULL
);
CREATE INDEX pb_paper_votes_by_project ON pb_paper_votes (project_id);

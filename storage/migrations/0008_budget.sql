-- The budget: every imported document (adopted budget, rebalance, execution report) is a version
-- of its year, kept for ever; residents see the latest. Amounts in para (1/100 dinar).
CREATE TABLE budget_versions (
    id INTEGER PRIMARY KEY,
    year INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('adopted', 'rebalance', 'execution')),
    as_of TEXT NOT NULL,
    file_name TEXT NOT NULL,
    imported_by INTEGER REFERENCES users (id),
    imported_at TEXT NOT NULL
);
CREATE INDEX budget_versions_by_year ON budget_versions (year, as_of, id);

CREATE TABLE budget_lines (
    version_id INTEGER NOT NULL REFERENCES budget_versions (id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('spending', 'revenue')),
    program TEXT,
    activity TEXT,
    name TEXT NOT NULL,
    function TEXT,
    account TEXT NOT NULL,
    source TEXT,
    planned INTEGER NOT NULL CHECK (planned >= 0),
    executed INTEGER NOT NULL CHECK (executed >= 0),
    PRIMARY KEY (version_id, line)
);
CREATE INDEX budget_lines_by_program ON budget_lines (version_id, side, program, activity);

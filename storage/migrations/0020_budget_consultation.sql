-- A budget consultation is a public consultation whose period (starts_at to ends_at) drafts one
-- year's budget; its comments are the residents' proposals, each for a program, with an optional
-- estimated cost (para) and place, answered with a verdict and its reason (the answer).
ALTER TABLE consultations ADD COLUMN budget_year INTEGER;
ALTER TABLE consultations ADD COLUMN closed_at TEXT;
ALTER TABLE consultations ADD COLUMN closed_by INTEGER REFERENCES users (id);
ALTER TABLE consultation_comments ADD COLUMN program TEXT;
ALTER TABLE consultation_comments ADD COLUMN cost INTEGER CHECK (cost >= 0);
ALTER TABLE consultation_comments ADD COLUMN latitude REAL;
ALTER TABLE consultation_comments ADD COLUMN longitude REAL;
ALTER TABLE consultation_comments ADD COLUMN verdict TEXT
    CHECK (verdict IN ('taken', 'partly', 'not'));
CREATE INDEX consultations_by_budget_year ON consultations (budget_year, closed_at);
CREATE INDEX consultation_comments_by_consultation ON consultation_comments (consultation_id, id);

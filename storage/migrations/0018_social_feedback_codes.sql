-- Feedback on a right comes only from someone who applied for it or used it: the Centre hands
-- each such person a one-time code (on paper, at the counter), and feedback is taken only with an
-- unused code of that right. A code names no one: it is kept as a hash with its right and the
-- month it was issued, and nothing links it to whom it was given or who used it. So the list of
-- who gave feedback on which right is no longer written, and what it held is deleted (the table
-- stays, empty, as databases in the field have it).
CREATE TABLE social_feedback_codes (
    code_hash TEXT PRIMARY KEY,
    right_key TEXT NOT NULL,
    month TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);

DELETE FROM social_feedback_given;

-- One counter of the changes to what the budget's, the action plan's and the library's data sets
-- are made of (budget.csv, plan.csv, library-suggestions.csv), raised by the database itself on
-- any statement of any process (an import, a publication, a staff command, a resident's "I want
-- this too"). The data-set job compares it, as it compares report_changes.n (migration 0025),
-- and rewrites the files within a minute of a change instead of at the daily run.
CREATE TABLE data_set_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO data_set_changes (id, n) VALUES (1, 0);

CREATE TRIGGER data_set_changes_budget_versions_insert AFTER INSERT ON budget_versions
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_budget_versions_update AFTER UPDATE ON budget_versions
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_budget_versions_delete AFTER DELETE ON budget_versions
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_budget_lines_insert AFTER INSERT ON budget_lines
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_budget_lines_update AFTER UPDATE ON budget_lines
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_budget_lines_delete AFTER DELETE ON budget_lines
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_plan_measures_insert AFTER INSERT ON plan_measures
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_plan_measures_update AFTER UPDATE ON plan_measures
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_plan_measures_delete AFTER DELETE ON plan_measures
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_library_suggestions_insert AFTER INSERT ON library_suggestions
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_library_suggestions_update AFTER UPDATE ON library_suggestions
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_library_suggestions_delete AFTER DELETE ON library_suggestions
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_library_supporters_insert AFTER INSERT ON library_supporters
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_library_supporters_update AFTER UPDATE ON library_supporters
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER data_set_changes_library_supporters_delete AFTER DELETE ON library_supporters
BEGIN
    UPDATE data_set_changes SET n = n + 1 WHERE id = 1;
END;

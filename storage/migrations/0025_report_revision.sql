-- A revision for each report, raised by the database itself whenever the report, its history or
-- its photos change (any statement, any process: the chat, the API, retention, an erasure), one
-- counter of all such changes (n), and one of the changes the site's map and the services'
-- figures are drawn from (figures: a report filed, deleted, published or not, or its category,
-- place, service, status or times). The open data keeps each report's published text by its
-- revision, the site's lists by n and its map and scorecards by figures, so a fresh answer
-- builds only what changed and never serves what is stale.
ALTER TABLE reports ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

CREATE TABLE report_changes (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    n       INTEGER NOT NULL,
    figures INTEGER NOT NULL
);
INSERT INTO report_changes (id, n, figures) VALUES (1, 0, 0);

-- The nested UPDATE of a report's revision does not raise it again: its WHEN sees the revision
-- changed (and SQLite does not fire a trigger from itself unless recursive_triggers is on).
CREATE TRIGGER report_revision_on_insert AFTER INSERT ON reports
BEGIN
    UPDATE report_changes SET n = n + 1, figures = figures + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1) WHERE id = NEW.id;
END;

CREATE TRIGGER report_revision_on_update AFTER UPDATE ON reports
WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1) WHERE id = NEW.id;
END;

CREATE TRIGGER report_revision_on_delete AFTER DELETE ON reports
BEGIN
    UPDATE report_changes SET n = n + 1, figures = figures + 1 WHERE id = 1;
END;

CREATE TRIGGER report_figures_on_update
AFTER UPDATE OF public, category, latitude, longitude, service, status, created_at,
    acknowledged_at, resolved_at, sla_due_at ON reports
BEGIN
    UPDATE report_changes SET figures = figures + 1 WHERE id = 1;
END;

CREATE TRIGGER report_revision_on_event_insert AFTER INSERT ON report_events
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1)
        WHERE id = NEW.report_id;
END;

CREATE TRIGGER report_revision_on_event_update AFTER UPDATE ON report_events
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1)
        WHERE id IN (OLD.report_id, NEW.report_id);
END;

CREATE TRIGGER report_revision_on_event_delete AFTER DELETE ON report_events
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1)
        WHERE id = OLD.report_id;
END;

CREATE TRIGGER report_revision_on_photo_insert AFTER INSERT ON report_photos
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1)
        WHERE id = NEW.report_id;
END;

CREATE TRIGGER report_revision_on_photo_update AFTER UPDATE ON report_photos
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1)
        WHERE id IN (OLD.report_id, NEW.report_id);
END;

CREATE TRIGGER report_revision_on_photo_delete AFTER DELETE ON report_photos
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1)
        WHERE id = OLD.report_id;
END;

-- A report's last change as the public sees it (reports.updated_at, Open311's updated_datetime)
-- and its revision (what the open data keeps each report's published text by, migration 0025)
-- move exactly with what is published: the report's public columns, its photos, and the history
-- a visitor may read (public status changes and answers: storage/opendata.PUBLIC_EVENT_KINDS).
-- A public answer moves updated_at as a status change does (it did not: updated_datetime stayed at
-- the filing); an internal note, a question to the resident, an SLA flag move neither.

DROP TRIGGER report_revision_on_update;
CREATE TRIGGER report_revision_on_update AFTER UPDATE ON reports
WHEN NEW.revision = OLD.revision AND (
    NEW.public IS NOT OLD.public OR NEW.ref IS NOT OLD.ref OR NEW.category IS NOT OLD.category
    OR NEW.service IS NOT OLD.service OR NEW.status IS NOT OLD.status
    OR NEW.description IS NOT OLD.description OR NEW.latitude IS NOT OLD.latitude
    OR NEW.longitude IS NOT OLD.longitude OR NEW.address IS NOT OLD.address
    OR NEW.created_at IS NOT OLD.created_at OR NEW.updated_at IS NOT OLD.updated_at
    OR NEW.sla_due_at IS NOT OLD.sla_due_at OR NEW.acknowledged_at IS NOT OLD.acknowledged_at
    OR NEW.resolved_at IS NOT OLD.resolved_at OR NEW.source IS NOT OLD.source
)
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1) WHERE id = NEW.id;
END;

-- The new revision makes report_revision_on_update's WHEN false: one raise, not two.
DROP TRIGGER report_revision_on_event_insert;
CREATE TRIGGER report_revision_on_event_insert AFTER INSERT ON report_events
WHEN NEW.public = 1 AND NEW.kind IN ('created', 'status', 'reply')
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1),
        updated_at = MAX(updated_at, NEW.at)
        WHERE id = NEW.report_id;
END;

DROP TRIGGER report_revision_on_event_update;
CREATE TRIGGER report_revision_on_event_update AFTER UPDATE ON report_events
WHEN (OLD.public = 1 AND OLD.kind IN ('created', 'status', 'reply'))
    OR (NEW.public = 1 AND NEW.kind IN ('created', 'status', 'reply'))
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1)
        WHERE id IN (OLD.report_id, NEW.report_id);
END;

DROP TRIGGER report_revision_on_event_delete;
CREATE TRIGGER report_revision_on_event_delete AFTER DELETE ON report_events
WHEN OLD.public = 1 AND OLD.kind IN ('created', 'status', 'reply')
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1)
        WHERE id = OLD.report_id;
END;

-- The reports answered before this migration: their last public change, from their history.
UPDATE reports SET updated_at = (
    SELECT MAX(e.at) FROM report_events e
    WHERE e.report_id = reports.id AND e.public = 1 AND e.kind IN ('created', 'status', 'reply')
)
WHERE (
    SELECT MAX(e.at) FROM report_events e
    WHERE e.report_id = reports.id AND e.public = 1 AND e.kind IN ('created', 'status', 'reply')
) > updated_at;

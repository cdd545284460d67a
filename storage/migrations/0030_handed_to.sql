-- The outside body a report was handed over to (its id in the municipality file's [[bodies]]):
-- while the report is handed off, Open311 names that body as agency_responsible, not the municipal
-- service. It is published, so the revision (migrations 0025, 0029) moves with it too.
ALTER TABLE reports ADD COLUMN handed_to TEXT;

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
    OR NEW.handed_to IS NOT OLD.handed_to
)
BEGIN
    UPDATE report_changes SET n = n + 1 WHERE id = 1;
    UPDATE reports SET revision = (SELECT n FROM report_changes WHERE id = 1) WHERE id = NEW.id;
END;

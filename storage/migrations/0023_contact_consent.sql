-- Whether the person who filed a report through the Open311 API agreed to be written to at the
-- e-mail address their client sent (staff questions go there only then).
ALTER TABLE report_contacts ADD COLUMN email_consent INTEGER NOT NULL DEFAULT 0;

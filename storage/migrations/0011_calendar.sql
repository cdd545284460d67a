-- A consultation's calendar file carries a SEQUENCE that is raised whenever the consultation
-- changes (calendar programs then replace the event they hold under the same UID).
ALTER TABLE consultations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

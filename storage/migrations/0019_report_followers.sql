-- Residents who reported the same problem as an open report ("me too"): they get its news.
CREATE TABLE report_followers (
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    at         TEXT    NOT NULL,
    PRIMARY KEY (report_id, user_id)
) WITHOUT ROWID;
CREATE INDEX report_followers_by_user ON report_followers (user_id, report_id);

-- The duplicate search: reports of one category in a latitude band around a point (a B-tree,
-- standard SQL; bench/duplicates.py measures it against no index and against an R*Tree).
CREATE INDEX reports_by_category_place ON reports (category, latitude, longitude);

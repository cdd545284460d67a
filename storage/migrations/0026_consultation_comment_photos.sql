-- A comment on a consultation sent as an album has up to 3 photos: the first stays in
-- consultation_comments.photo (as before), the later ones are here, in the album's order.
CREATE TABLE consultation_comment_photos (
    comment_id INTEGER NOT NULL REFERENCES consultation_comments (id),
    position   INTEGER NOT NULL,
    path       TEXT    NOT NULL,
    PRIMARY KEY (comment_id, position)
);
CREATE INDEX consultation_comment_photos_by_path ON consultation_comment_photos (path);

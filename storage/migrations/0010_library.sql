-- The town library: the titles it acquired, and what residents follow.
CREATE TABLE library_titles (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    authors TEXT NOT NULL DEFAULT '',        -- display names, joined by '; '
    responsibility TEXT,                     -- UNIMARC 200$f
    isbn TEXT UNIQUE,                        -- ISBN-13, digits only
    match_key TEXT NOT NULL,                 -- normalised title | first author
    search_text TEXT NOT NULL,               -- normalised title and authors, Latin script
    publisher TEXT,
    year TEXT,
    udc TEXT,
    subject TEXT NOT NULL,
    language TEXT,                           -- ISO 639-2 (UNIMARC 101$a)
    link TEXT,
    source TEXT NOT NULL,                    -- marc, csv, xlsx, feed
    added_at TEXT NOT NULL
);
CREATE INDEX library_titles_match ON library_titles (match_key);
CREATE INDEX library_titles_added ON library_titles (added_at);

CREATE TABLE library_follows (
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('subject', 'author', 'language')),
    value TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);

-- How a follower is told (weekly or as titles arrive), the last title they were told about, and
-- the week of their last digest: at most one digest a week, whatever runs twice.
CREATE TABLE library_readers (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    mode TEXT NOT NULL DEFAULT 'weekly' CHECK (mode IN ('weekly', 'instant')),
    seen_title_id INTEGER NOT NULL DEFAULT 0,
    digest_week TEXT
);

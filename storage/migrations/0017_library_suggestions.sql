-- The library: titles residents miss (merged, supported, answered), its own events, and the
-- weeks whose digest of new suggestions went to the librarians.
CREATE TABLE library_suggestions (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    isbn TEXT,                               -- ISBN-13, digits only
    match_key TEXT NOT NULL,                 -- normalised title | author, as for titles
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'ordered', 'available', 'not_planned', 'arrived')),
    answer TEXT,                             -- the reason (not planned) or the link (available)
    answered_by INTEGER REFERENCES users (id),
    answered_at TEXT,
    arrived_title_id INTEGER REFERENCES library_titles (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX library_suggestions_match ON library_suggestions (match_key);
CREATE INDEX library_suggestions_isbn ON library_suggestions (isbn);

-- Who wants a suggested title: the one who suggested it first, and each "I want this too".
CREATE TABLE library_supporters (
    suggestion_id INTEGER NOT NULL REFERENCES library_suggestions (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    reason TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (suggestion_id, user_id)
);

CREATE TABLE library_events (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    place TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX library_events_starts ON library_events (starts_at);

CREATE TABLE library_staff_digests (
    week TEXT PRIMARY KEY,
    at TEXT NOT NULL
);

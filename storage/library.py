"""The library's titles (deduplicated by ISBN or by normalised title and author) and followers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import iso, parse
from storage.sql import fetch_all, fetch_one

FOLLOW_KINDS = ("subject", "author", "language")


@dataclass(frozen=True, slots=True)
class TitleRow:
    """What a stored title needs to be stored: the fields and the keys the feature computed."""

    title: str
    authors: tuple[str, ...]
    responsibility: str | None
    isbn: str | None
    match_key: str
    search_text: str
    publisher: str | None
    year: str | None
    udc: str | None
    subject: str
    language: str | None
    link: str | None


@dataclass(frozen=True, slots=True)
class Title:
    """A title in the library's list of acquisitions."""

    id: int
    title: str
    authors: tuple[str, ...]
    responsibility: str | None
    isbn: str | None
    publisher: str | None
    year: str | None
    subject: str
    language: str | None
    link: str | None
    added_at: datetime


_SELECT = (
    "SELECT id, title, authors, responsibility, isbn, publisher, year, subject, language, link,"
    " added_at FROM library_titles"
)


def _title(row: aiosqlite.Row) -> Title:
    authors = tuple(a for a in str(row[2]).split("; ") if a)
    return Title(
        int(row[0]), row[1], authors, row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        parse(row[10]),
    )  # fmt: skip


async def known_keys(
    conn: aiosqlite.Connection, rows: Sequence[TitleRow]
) -> tuple[set[str], set[str]]:
    """The ISBNs and the match keys of ``rows`` that the library already has."""
    isbns = sorted({r.isbn for r in rows if r.isbn})
    keys = sorted({r.match_key for r in rows})
    found_isbns: set[str] = set()
    found_keys: set[str] = set()
    # In slices, under SQLite's limit of host parameters.
    for start in range(0, max(len(isbns), len(keys)), 500):
        part_i, part_k = isbns[start : start + 500], keys[start : start + 500]
        marks_i, marks_k = ",".join("?" * len(part_i)), ",".join("?" * len(part_k))
        found = await fetch_all(
            conn,
            f"SELECT isbn, match_key FROM library_titles WHERE isbn IN ({marks_i})"  # noqa: S608
            f" OR match_key IN ({marks_k})",
            (*part_i, *part_k),
        )
        found_isbns |= {str(r[0]) for r in found if r[0]}
        found_keys |= {str(r[1]) for r in found}
    return found_isbns, found_keys


def new_ones(rows: Sequence[TitleRow], isbns: set[str], keys: set[str]) -> list[TitleRow]:
    """The rows not known by ISBN or match key, nor repeated earlier in ``rows`` itself."""
    isbns, keys = set(isbns), set(keys)
    fresh = []
    for row in rows:
        if (row.isbn and row.isbn in isbns) or row.match_key in keys:
            continue
        fresh.append(row)
        keys.add(row.match_key)
        if row.isbn:
            isbns.add(row.isbn)
    return fresh


async def add_titles(
    conn: aiosqlite.Connection, rows: Sequence[TitleRow], source: str, now: datetime
) -> list[int]:
    """Store the titles the library does not have yet; return the ids of those stored."""
    isbns, keys = await known_keys(conn, rows)
    fresh = new_ones(rows, isbns, keys)
    if not fresh:
        return []
    values = [
        (
            r.title, "; ".join(r.authors), r.responsibility, r.isbn, r.match_key, r.search_text,
            r.publisher, r.year, r.udc, r.subject, r.language, r.link, source, iso(now),
        )
        for r in fresh
    ]  # fmt: skip
    marks = ",".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(values))
    added = await fetch_all(
        conn,
        "INSERT INTO library_titles (title, authors, responsibility, isbn, match_key,"  # noqa: S608
        " search_text, publisher, year, udc, subject, language, link, source, added_at)"
        f" VALUES {marks} RETURNING id",
        [v for row in values for v in row],
    )
    return sorted(int(r[0]) for r in added)


async def added_since(conn: aiosqlite.Connection, since: datetime) -> list[Title]:
    """The titles added at or after ``since``, newest first."""
    rows = await fetch_all(conn, _SELECT + " WHERE added_at >= ? ORDER BY id DESC", (iso(since),))
    return [_title(r) for r in rows]


async def search(conn: aiosqlite.Connection, words: Sequence[str], limit: int) -> list[Title]:
    """Titles whose normalised title and authors hold every one of ``words``, newest first."""
    if not words:
        return []
    where = " AND ".join(["search_text LIKE ? ESCAPE '\\'"] * len(words))
    patterns = ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                for w in words]  # fmt: skip
    rows = await fetch_all(
        conn, f"{_SELECT} WHERE {where} ORDER BY id DESC LIMIT ?", (*patterns, limit)
    )
    return [_title(r) for r in rows]


async def titles_after(conn: aiosqlite.Connection, after_id: int, limit: int) -> list[Title]:
    """Titles with an id above ``after_id``, oldest first."""
    rows = await fetch_all(conn, _SELECT + " WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))
    return [_title(r) for r in rows]


async def last_title_id(conn: aiosqlite.Connection) -> int:
    """The id of the newest title (0 when there is none)."""
    row = await fetch_one(conn, "SELECT COALESCE(MAX(id), 0) FROM library_titles")
    return int(row[0]) if row else 0


# Followers: what residents follow, how they are told, and what they were told last.


@dataclass(frozen=True, slots=True)
class Follow:
    """One thing a resident follows: a subject, an author (as they wrote the name), a language."""

    id: int
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Reader:
    """A resident who follows something, with the last title they were told about."""

    user_id: int
    channel: str
    chat_id: str
    language: str | None
    mode: str
    seen_title_id: int
    digest_week: str | None


async def follows_of(conn: aiosqlite.Connection, user_id: int) -> list[Follow]:
    """What a resident follows, in the order they began."""
    # rowid is SQLite's own key: library_follows (migration 0010, released) has no id column;
    # a PostgreSQL schema gives it one.
    rows = await fetch_all(
        conn,
        "SELECT rowid, kind, value FROM library_follows WHERE user_id = ? ORDER BY rowid",
        (user_id,),
    )
    return [Follow(int(r[0]), str(r[1]), str(r[2])) for r in rows]


async def follow(
    conn: aiosqlite.Connection, user_id: int, kind: str, value: str, now: datetime
) -> None:
    """Follow something; a new follower is told about titles from now on, not the old ones."""
    await conn.execute(
        "INSERT INTO library_readers (user_id, seen_title_id)"
        # WHERE true: SQLite's parser needs it between a SELECT and ON CONFLICT.
        " SELECT ?, COALESCE(MAX(id), 0) FROM library_titles WHERE true"
        " ON CONFLICT (user_id) DO NOTHING",
        (user_id,),
    )
    await conn.execute(
        "INSERT INTO library_follows (user_id, kind, value, at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (user_id, kind, value, iso(now)),
    )


async def unfollow(conn: aiosqlite.Connection, user_id: int, follow_id: int) -> bool:
    """Stop following one thing (by its id, of this resident only); whether it was followed."""
    row = await fetch_one(
        conn,
        "DELETE FROM library_follows WHERE rowid = ? AND user_id = ? RETURNING 1",
        (follow_id, user_id),
    )
    return row is not None


async def unfollow_value(conn: aiosqlite.Connection, user_id: int, kind: str, value: str) -> bool:
    """Stop following a subject or a language; whether it was followed."""
    row = await fetch_one(
        conn,
        "DELETE FROM library_follows WHERE user_id = ? AND kind = ? AND value = ? RETURNING 1",
        (user_id, kind, value),
    )
    return row is not None


async def mode_of(conn: aiosqlite.Connection, user_id: int) -> str:
    """``weekly`` (the default) or ``instant``."""
    row = await fetch_one(conn, "SELECT mode FROM library_readers WHERE user_id = ?", (user_id,))
    return str(row[0]) if row else "weekly"


async def set_mode(conn: aiosqlite.Connection, user_id: int, mode: str) -> None:
    """Be told weekly or as titles arrive."""
    await conn.execute(
        "INSERT INTO library_readers (user_id, mode, seen_title_id)"
        " SELECT ?, ?, COALESCE(MAX(id), 0) FROM library_titles WHERE true"
        " ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode",
        (user_id, mode),
    )


async def readers_behind(conn: aiosqlite.Connection) -> list[Reader]:
    """Reachable followers with titles newer than the last they were told about."""
    rows = await fetch_all(
        conn,
        "SELECT r.user_id, u.channel, u.chat_id, u.language, r.mode, r.seen_title_id,"
        " r.digest_week FROM library_readers r JOIN users u ON u.id = r.user_id"
        " WHERE u.unreachable = 0"
        " AND r.seen_title_id < (SELECT COALESCE(MAX(id), 0) FROM library_titles)"
        " AND EXISTS (SELECT 1 FROM library_follows f WHERE f.user_id = r.user_id)"
        " ORDER BY r.user_id",
    )
    return [Reader(int(r[0]), str(r[1]), str(r[2]), r[3], str(r[4]), int(r[5]), r[6]) for r in rows]


async def all_follows(
    conn: aiosqlite.Connection, user_ids: Sequence[int]
) -> dict[int, list[Follow]]:
    """What each of ``user_ids`` follows."""
    found: dict[int, list[Follow]] = {u: [] for u in user_ids}
    for start in range(0, len(user_ids), 500):
        part = list(user_ids[start : start + 500])
        rows = await fetch_all(
            conn,
            "SELECT user_id, rowid, kind, value FROM library_follows"  # noqa: S608
            f" WHERE user_id IN ({','.join('?' * len(part))}) ORDER BY rowid",
            part,
        )
        for r in rows:
            found[int(r[0])].append(Follow(int(r[1]), str(r[2]), str(r[3])))
    return found


async def mark_told(
    conn: aiosqlite.Connection, reader: Reader, seen_title_id: int, digest_week: str | None
) -> bool:
    """Record what a reader was told, if nobody did meanwhile (compare-and-set)."""
    row = await fetch_one(
        conn,
        "UPDATE library_readers SET seen_title_id = ?, digest_week = COALESCE(?, digest_week)"
        " WHERE user_id = ? AND seen_title_id = ? RETURNING 1",
        (seen_title_id, digest_week, reader.user_id, reader.seen_title_id),
    )
    return row is not None


async def get(conn: aiosqlite.Connection, title_id: int) -> Title | None:
    """One title."""
    row = await fetch_one(conn, _SELECT + " WHERE id = ?", (title_id,))
    return _title(row) if row else None


async def find(conn: aiosqlite.Connection, isbn: str | None, match_key: str) -> Title | None:
    """The library's copy of a book: the same ISBN, or the same title and author."""
    row = await fetch_one(
        conn,
        _SELECT + " WHERE (isbn = ? AND isbn IS NOT NULL) OR match_key = ? ORDER BY id LIMIT 1",
        (isbn, match_key),
    )
    return _title(row) if row else None


# The library's own events (those of the municipality file are read from the file).


@dataclass(frozen=True, slots=True)
class Event:
    """A reading or a workshop the librarian announced in chat."""

    title: str
    starts_at: datetime
    place: str


async def add_event(
    conn: aiosqlite.Connection, title: str, starts_at: datetime, place: str, by: int, now: datetime
) -> None:
    """Store an event."""
    await conn.execute(
        "INSERT INTO library_events (title, starts_at, place, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (title, iso(starts_at), place, by, iso(now)),
    )


async def events_from(conn: aiosqlite.Connection, since: datetime, limit: int) -> list[Event]:
    """Events starting at or after ``since``, the nearest first."""
    rows = await fetch_all(
        conn,
        "SELECT title, starts_at, place FROM library_events WHERE starts_at >= ?"
        " ORDER BY starts_at LIMIT ?",
        (iso(since), limit),
    )
    return [Event(str(r[0]), parse(r[1]), str(r[2])) for r in rows]


@dataclass(frozen=True, slots=True)
class Librarian:
    """Where to reach a librarian."""

    channel: str
    chat_id: str
    language: str | None


async def librarians(conn: aiosqlite.Connection) -> list[Librarian]:
    """The reachable librarians, or the admins when the file names no librarian."""
    rows = await fetch_all(
        conn,
        "SELECT channel, chat_id, language FROM users WHERE unreachable = 0 AND role = 'librarian'"
        " UNION ALL SELECT channel, chat_id, language FROM users WHERE unreachable = 0"
        " AND role = 'admin' AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'librarian')",
    )
    return [Librarian(str(r[0]), str(r[1]), r[2]) for r in rows]

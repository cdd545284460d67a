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

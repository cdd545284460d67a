"""Titles residents miss: suggestions merged by ISBN or match key, their supporters, the answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import iso, parse
from storage.sql import fetch_all, fetch_one

OPEN = "open"
ORDERED = "ordered"
AVAILABLE = "available"
NOT_PLANNED = "not_planned"
ARRIVED = "arrived"
ANSWERS = (ORDERED, AVAILABLE, NOT_PLANNED)
STATUSES = (OPEN, ORDERED, AVAILABLE, NOT_PLANNED, ARRIVED)
SHOWN = (OPEN, ORDERED)  # what residents find in a search, and may support
# The statuses each answer may follow: an ordered title is not ordered again.
FROM = {ORDERED: (OPEN,), AVAILABLE: (OPEN, ORDERED), NOT_PLANNED: (OPEN, ORDERED)}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A title residents miss, with how many want it."""

    id: int
    title: str
    author: str
    isbn: str | None
    status: str
    answer: str | None
    supporters: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Supporter:
    """Someone who wants a suggested title, and where to tell them."""

    user_id: int
    channel: str
    chat_id: str
    language: str | None
    reason: str | None


_SELECT = (
    "SELECT s.id, s.title, s.author, s.isbn, s.status, s.answer,"
    " (SELECT COUNT(*) FROM library_supporters p WHERE p.suggestion_id = s.id), s.created_at"
    " FROM library_suggestions s"
)


def _suggestion(row: aiosqlite.Row) -> Suggestion:
    return Suggestion(
        int(row[0]), row[1], row[2], row[3], row[4], row[5], int(row[6]), parse(row[7])
    )


async def get(conn: aiosqlite.Connection, suggestion_id: int) -> Suggestion | None:
    """One suggestion."""
    row = await fetch_one(conn, _SELECT + " WHERE s.id = ?", (suggestion_id,))
    return _suggestion(row) if row else None


async def similar(
    conn: aiosqlite.Connection, isbn: str | None, match_key: str
) -> Suggestion | None:
    """The suggestion of the same book (the same ISBN, or the same title and author)."""
    row = await fetch_one(
        conn,
        _SELECT + " WHERE (s.isbn = ? AND s.isbn IS NOT NULL) OR s.match_key = ?"
        " ORDER BY s.id LIMIT 1",
        (isbn, match_key),
    )
    return _suggestion(row) if row else None


async def create(
    conn: aiosqlite.Connection,
    title: str,
    author: str,
    isbn: str | None,
    match_key: str,
    reason: str | None,
    user_id: int,
    now: datetime,
) -> int:
    """Store a new suggestion, its author as its first supporter."""
    row = await fetch_one(
        conn,
        "INSERT INTO library_suggestions (title, author, isbn, match_key, user_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (title, author, isbn, match_key, user_id, iso(now)),
    )
    assert row is not None  # noqa: S101 - RETURNING gives the row
    await support(conn, int(row[0]), user_id, reason, now)
    return int(row[0])


async def support(
    conn: aiosqlite.Connection, suggestion_id: int, user_id: int, reason: str | None, now: datetime
) -> bool:
    """Count ``user_id`` among those who want it; whether they were not counted already."""
    row = await fetch_one(
        conn,
        "INSERT INTO library_supporters (suggestion_id, user_id, reason, at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        (suggestion_id, user_id, reason, iso(now)),
    )
    return row is not None


async def ranked(
    conn: aiosqlite.Connection, statuses: Sequence[str], limit: int
) -> list[Suggestion]:
    """Suggestions in these statuses, the most wanted first (then the oldest)."""
    marks = ",".join("?" * len(statuses))
    rows = await fetch_all(
        conn,
        f"{_SELECT} WHERE s.status IN ({marks}) ORDER BY 7 DESC, s.id LIMIT ?",
        (*statuses, limit),
    )
    return [_suggestion(r) for r in rows]


async def search(
    conn: aiosqlite.Connection, words: Sequence[str], statuses: Sequence[str], limit: int
) -> list[Suggestion]:
    """Suggestions whose normalised title and author hold every word."""
    if not words:
        return []
    where = " AND ".join(["s.match_key LIKE ? ESCAPE '\\'"] * len(words))
    patterns = ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                for w in words]  # fmt: skip
    marks = ",".join("?" * len(statuses))
    rows = await fetch_all(
        conn,
        f"{_SELECT} WHERE {where} AND s.status IN ({marks}) ORDER BY 7 DESC, s.id LIMIT ?",
        (*patterns, *statuses, limit),
    )
    return [_suggestion(r) for r in rows]


async def answer(
    conn: aiosqlite.Connection,
    suggestion_id: int,
    status: str,
    text: str | None,
    by: int,
    now: datetime,
) -> bool:
    """The librarian's answer, if the suggestion is still open (or ordered, for the other
    answers); compare-and-set, so two answers at once make one change."""
    before = FROM[status]
    marks = ",".join("?" * len(before))
    row = await fetch_one(
        conn,
        "UPDATE library_suggestions SET status = ?, answer = ?, answered_by = ?,"  # noqa: S608
        f" answered_at = ? WHERE id = ? AND status IN ({marks}) RETURNING 1",
        (status, text, by, iso(now), suggestion_id, *before),
    )
    return row is not None


async def supporters(conn: aiosqlite.Connection, suggestion_id: int) -> list[Supporter]:
    """Who wants a suggested title and can be told."""
    rows = await fetch_all(
        conn,
        "SELECT u.id, u.channel, u.chat_id, u.language, p.reason FROM library_supporters p"
        " JOIN users u ON u.id = p.user_id WHERE p.suggestion_id = ? AND u.unreachable = 0"
        " ORDER BY p.at",
        (suggestion_id,),
    )
    return [Supporter(int(r[0]), str(r[1]), str(r[2]), r[3], r[4]) for r in rows]


async def reasons(conn: aiosqlite.Connection, suggestion_id: int) -> list[str]:
    """Why residents want it, in the order they said it."""
    rows = await fetch_all(
        conn,
        "SELECT reason FROM library_supporters WHERE suggestion_id = ? AND reason IS NOT NULL"
        " ORDER BY at",
        (suggestion_id,),
    )
    return [str(r[0]) for r in rows]


async def arrivals(conn: aiosqlite.Connection) -> list[tuple[Suggestion, int]]:
    """Ordered suggestions whose title is now in the library, with the title's id."""
    rows = await fetch_all(
        conn,
        _SELECT.replace(" FROM library_suggestions s", ", t.id FROM library_suggestions s")
        + " JOIN library_titles t ON (t.isbn = s.isbn AND s.isbn IS NOT NULL)"
        " OR t.match_key = s.match_key WHERE s.status = 'ordered' ORDER BY s.id, t.id",
    )
    seen: dict[int, tuple[Suggestion, int]] = {}
    for r in rows:
        seen.setdefault(int(r[0]), (_suggestion(r), int(r[8])))
    return list(seen.values())


async def mark_arrived(conn: aiosqlite.Connection, suggestion_id: int, title_id: int) -> bool:
    """An ordered title has arrived (once: compare-and-set on the status)."""
    row = await fetch_one(
        conn,
        "UPDATE library_suggestions SET status = 'arrived', arrived_title_id = ?"
        " WHERE id = ? AND status = 'ordered' RETURNING 1",
        (title_id, suggestion_id),
    )
    return row is not None


async def created_since(conn: aiosqlite.Connection, since: datetime) -> list[Suggestion]:
    """Suggestions made at or after ``since``, the most wanted first."""
    rows = await fetch_all(
        conn, _SELECT + " WHERE s.created_at >= ? ORDER BY 7 DESC, s.id", (iso(since),)
    )
    return [_suggestion(r) for r in rows]


async def claim_staff_digest(conn: aiosqlite.Connection, week: str, now: datetime) -> bool:
    """Take this week's digest for the librarians; False when it was sent already."""
    row = await fetch_one(
        conn,
        "INSERT INTO library_staff_digests (week, at) VALUES (?, ?)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        (week, iso(now)),
    )
    return row is not None

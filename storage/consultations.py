"""Public consultations, who takes part, their comments and the reminders sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.clock import iso, parse
from storage.sql import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Consultation:
    """A public consultation or meeting."""

    id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    place: str
    link: str | None
    announced_at: datetime | None
    minutes: str | None
    budget_year: int | None = None  # a budget consultation: a period for proposals (0020)


@dataclass(frozen=True, slots=True)
class NewConsultation:
    """What an admin's wizard or the municipality file gives."""

    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    place: str
    link: str | None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Comment:
    """A resident's comment or proposal, with the municipality's answer once given."""

    id: int
    consultation_id: int
    user_id: int
    text: str
    photo: str | None
    at: datetime
    answer: str | None


_SELECT = (
    "SELECT id, title, description, starts_at, ends_at, place, link, announced_at, minutes,"
    " budget_year FROM consultations"
)


def _consultation(r: aiosqlite.Row) -> Consultation:
    return Consultation(
        r[0], r[1], r[2], parse(r[3]), parse(r[4]), r[5], r[6],
        parse(r[7]) if r[7] else None, r[8], r[9],
    )  # fmt: skip


async def create(
    conn: aiosqlite.Connection, new: NewConsultation, created_by: int | None, now: datetime
) -> int:
    """Store a consultation (one from the file is stored once, by its key); return its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO consultations (key, title, description, starts_at, ends_at, place, link,"
        " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        # A consultation corrected in the municipality file takes the new details.
        " ON CONFLICT (key) DO UPDATE SET title = excluded.title,"
        " description = excluded.description, starts_at = excluded.starts_at,"
        " ends_at = excluded.ends_at, place = excluded.place, link = excluded.link,"
        # A real correction raises the calendar file's SEQUENCE; the same details do not.
        " revision = revision + CASE WHEN title IS DISTINCT FROM excluded.title"
        " OR description IS DISTINCT FROM excluded.description"
        " OR starts_at IS DISTINCT FROM excluded.starts_at"
        " OR ends_at IS DISTINCT FROM excluded.ends_at OR place IS DISTINCT FROM excluded.place"
        " OR link IS DISTINCT FROM excluded.link THEN 1 ELSE 0 END"
        " RETURNING id",
        (new.key, new.title, new.description, iso(new.starts_at), iso(new.ends_at), new.place,
         new.link, created_by, iso(now)),
    )  # fmt: skip
    assert row is not None  # noqa: S101 - RETURNING always yields the row
    return int(row[0])


async def get(conn: aiosqlite.Connection, consultation_id: int) -> Consultation | None:
    """One consultation."""
    row = await fetch_one(conn, _SELECT + " WHERE id = ?", (consultation_id,))
    return _consultation(row) if row else None


async def current(conn: aiosqlite.Connection, now: datetime) -> list[Consultation]:
    """Consultations not over yet, soonest first."""
    rows = await fetch_all(conn, _SELECT + " WHERE ends_at > ? ORDER BY starts_at", (iso(now),))
    return [_consultation(r) for r in rows]


async def mark_announced(conn: aiosqlite.Connection, consultation_id: int, now: datetime) -> None:
    """Remember that a consultation was announced."""
    await conn.execute(
        "UPDATE consultations SET announced_at = ? WHERE id = ?", (iso(now), consultation_id)
    )


async def set_minutes(
    conn: aiosqlite.Connection, consultation_id: int, minutes: str, now: datetime
) -> None:
    """Store the summary or minutes of a meeting."""
    await conn.execute(
        "UPDATE consultations SET minutes = ?, minutes_at = ?, revision = revision + 1"
        " WHERE id = ?",
        (minutes, iso(now), consultation_id),
    )


async def participate(
    conn: aiosqlite.Connection, consultation_id: int, user_id: int, *, remind: bool = False,
    attend: bool = False,
) -> None:  # fmt: skip
    """Ask for reminders and/or say one will attend (never undoes an earlier yes)."""
    await conn.execute(
        "INSERT INTO consultation_participants (consultation_id, user_id, remind, attend)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (consultation_id, user_id) DO UPDATE SET"
        " remind = CASE WHEN excluded.remind > remind THEN excluded.remind ELSE remind END,"
        " attend = CASE WHEN excluded.attend > attend THEN excluded.attend ELSE attend END",
        (consultation_id, user_id, int(remind), int(attend)),
    )


async def participants(
    conn: aiosqlite.Connection, consultation_id: int
) -> list[tuple[int, str, str, str | None]]:
    """(user id, channel, chat, language) of those who asked for reminders or will attend."""
    rows = await fetch_all(
        conn,
        "SELECT u.id, u.channel, u.chat_id, u.language FROM consultation_participants p"
        " JOIN users u ON u.id = p.user_id WHERE p.consultation_id = ? AND u.unreachable = 0"
        " AND (p.remind = 1 OR p.attend = 1) ORDER BY u.id",
        (consultation_id,),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


async def due_reminders(
    conn: aiosqlite.Connection, now: datetime, minutes_before: int
) -> list[tuple[int, int, str, str, str | None]]:
    """(consultation, user, channel, chat, language) of reminders due and not yet sent.

    A reminder is due once the meeting is at most ``minutes_before`` away; once it has
    started, it is no longer sent. A budget consultation is a period for proposals, not a
    meeting: a "Remind me" kept from an old keyboard sends nothing.
    """
    rows = await fetch_all(
        conn,
        "SELECT c.id, u.id, u.channel, u.chat_id, u.language FROM consultations c"
        " JOIN consultation_participants p ON p.consultation_id = c.id AND p.remind = 1"
        " JOIN users u ON u.id = p.user_id AND u.unreachable = 0"
        # The stored moments are fixed-width UTC text: they compare as the moments do.
        " WHERE c.starts_at > ? AND c.starts_at <= ?"
        " AND c.budget_year IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.consultation_id = c.id"
        " AND r.user_id = u.id AND r.minutes_before = ?)",
        (iso(now), iso(now + timedelta(minutes=minutes_before)), minutes_before),
    )
    return [(int(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4]) for r in rows]


async def mark_reminded(
    conn: aiosqlite.Connection, sent: list[tuple[int, int]], minutes_before: int, now: datetime
) -> None:
    """Remember reminders sent (consultation, user)."""
    await conn.executemany(
        "INSERT INTO reminders_sent (consultation_id, user_id, minutes_before, at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(c, u, minutes_before, iso(now)) for c, u in sent],
    )


async def add_comment(
    conn: aiosqlite.Connection, consultation_id: int, user_id: int, text: str,
    photos: Sequence[str], now: datetime,
) -> int:  # fmt: skip
    """Store a resident's comment or proposal with its photos (an album's); return its id."""
    first, later = (photos[0], photos[1:]) if photos else (None, ())
    row = await fetch_one(
        conn,
        "INSERT INTO consultation_comments (consultation_id, user_id, text, photo, at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        (consultation_id, user_id, text, first, iso(now)),
    )
    assert row is not None  # noqa: S101 - RETURNING always yields the row
    comment_id = int(row[0])
    if later:
        await conn.executemany(
            "INSERT INTO consultation_comment_photos (comment_id, position, path) VALUES (?, ?, ?)",
            [(comment_id, position, path) for position, path in enumerate(later, 1)],
        )
    return comment_id


async def add_comment_photo(conn: aiosqlite.Connection, comment_id: int, path: str) -> None:
    """Add a later photo of the album a comment came in, after its other photos.

    The first photo is the comment's own: when the album's captioned photo was refused, the
    next one takes its place, so the later photos stay at positions 1 and 2.
    """
    first = await conn.execute(
        "UPDATE consultation_comments SET photo = ? WHERE id = ? AND photo IS NULL",
        (path, comment_id),
    )
    if first.rowcount:
        return
    await conn.execute(
        "INSERT INTO consultation_comment_photos (comment_id, position, path)"
        " SELECT ?, COALESCE(MAX(position), 0) + 1, ? FROM consultation_comment_photos"
        " WHERE comment_id = ?",
        (comment_id, path, comment_id),
    )


async def comment_photos(conn: aiosqlite.Connection, comment_id: int) -> list[str]:
    """A comment's photos, the first one first."""
    rows = await fetch_all(
        conn,
        "SELECT path FROM (SELECT 0 AS position, photo AS path FROM consultation_comments"
        " WHERE id = :id AND photo IS NOT NULL UNION ALL SELECT position, path"
        " FROM consultation_comment_photos WHERE comment_id = :id) AS photos ORDER BY position",
        {"id": comment_id},
    )
    return [str(r[0]) for r in rows]


_COMMENT = "SELECT id, consultation_id, user_id, text, photo, at, answer FROM consultation_comments"


def _comment(r: aiosqlite.Row) -> Comment:
    return Comment(r[0], r[1], r[2], r[3], r[4], parse(r[5]), r[6])


async def get_comment(conn: aiosqlite.Connection, comment_id: int) -> Comment | None:
    """One comment."""
    row = await fetch_one(conn, _COMMENT + " WHERE id = ?", (comment_id,))
    return _comment(row) if row else None


async def comments_of(conn: aiosqlite.Connection, user_id: int, limit: int = 10) -> list[Comment]:
    """A resident's comments, newest first."""
    rows = await fetch_all(
        conn,
        _COMMENT + " WHERE user_id = ? AND program IS NULL ORDER BY id DESC LIMIT ?",
        (user_id, limit),
    )
    return [_comment(r) for r in rows]


async def answer_comment(
    conn: aiosqlite.Connection, comment_id: int, answer: str, by: int, now: datetime
) -> None:
    """Store the municipality's answer to a comment."""
    await conn.execute(
        "UPDATE consultation_comments SET answer = ?, answered_at = ?, answered_by = ?"
        " WHERE id = ?",
        (answer, iso(now), by, comment_id),
    )

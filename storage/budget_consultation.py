"""Budget consultations: a public consultation (storage/consultations.py) that drafts one year's
budget, and the residents' proposals, which are its comments with a program, a cost and a place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import consultations
from storage.clock import iso, parse
from storage.consultations import NewConsultation
from storage.sql import fetch_all, fetch_one

VERDICTS = ("taken", "partly", "not")


@dataclass(frozen=True, slots=True)
class Period:
    """A budget consultation: the year it drafts and when residents may propose."""

    id: int
    year: int
    starts_at: datetime
    ends_at: datetime
    closed_at: datetime | None

    def is_open(self, now: datetime) -> bool:
        """Whether residents may propose at ``now``."""
        return self.closed_at is None and self.starts_at <= now < self.ends_at


@dataclass(frozen=True, slots=True)
class Proposal:
    """A resident's proposal with the municipality's verdict and reason once answered."""

    id: int
    consultation_id: int
    user_id: int
    program: str
    text: str
    cost: int | None  # para
    photo: str | None
    latitude: float | None
    longitude: float | None
    verdict: str | None
    answer: str | None


@dataclass(frozen=True, slots=True)
class NewProposal:
    """What a resident sends."""

    program: str
    text: str
    cost: int | None
    photo: str | None
    latitude: float | None
    longitude: float | None


_PERIOD = (
    "SELECT id, budget_year, starts_at, ends_at, closed_at FROM consultations"
    " WHERE budget_year IS NOT NULL"
)


def _period(r: aiosqlite.Row) -> Period:
    return Period(int(r[0]), int(r[1]), parse(r[2]), parse(r[3]), parse(r[4]) if r[4] else None)


async def open_period(
    conn: aiosqlite.Connection, new: NewConsultation, year: int, by: int | None, now: datetime
) -> int:
    """Store a budget consultation (a public consultation that drafts ``year``); its id."""
    consultation_id = await consultations.create(conn, new, by, now)
    await conn.execute(
        "UPDATE consultations SET budget_year = ? WHERE id = ?", (year, consultation_id)
    )
    return consultation_id


async def get(conn: aiosqlite.Connection, consultation_id: int) -> Period | None:
    """One budget consultation."""
    row = await fetch_one(conn, _PERIOD + " AND id = ?", (consultation_id,))
    return _period(row) if row else None


async def by_key(conn: aiosqlite.Connection, key: str) -> Period | None:
    """The budget consultation stored under ``key`` (the municipality file's), if any."""
    row = await fetch_one(conn, _PERIOD + " AND key = ?", (key,))
    return _period(row) if row else None


async def unclosed(conn: aiosqlite.Connection) -> Period | None:
    """The budget consultation not closed yet (open, or waiting for its start), if any."""
    row = await fetch_one(conn, _PERIOD + " AND closed_at IS NULL ORDER BY starts_at LIMIT 1")
    return _period(row) if row else None


async def latest(conn: aiosqlite.Connection) -> Period | None:
    """The budget consultation not closed yet, or else the last one."""
    row = await fetch_one(conn, _PERIOD + " ORDER BY closed_at IS NULL DESC, id DESC LIMIT 1")
    return _period(row) if row else None


async def change_dates(
    conn: aiosqlite.Connection, consultation_id: int, starts: datetime, ends: datetime
) -> bool:
    """New dates for a budget consultation not closed yet; whether it was one."""
    row = await fetch_one(
        conn,
        "UPDATE consultations SET starts_at = ?, ends_at = ?"
        " WHERE id = ? AND budget_year IS NOT NULL AND closed_at IS NULL RETURNING id",
        (iso(starts), iso(ends), consultation_id),
    )
    return row is not None


async def close(
    conn: aiosqlite.Connection, consultation_id: int, by: int | None, now: datetime
) -> bool:
    """Close a budget consultation, once (``by`` None: at its end); whether this call closed it."""
    row = await fetch_one(
        conn,
        "UPDATE consultations SET closed_at = ?, closed_by = ?"
        " WHERE id = ? AND budget_year IS NOT NULL AND closed_at IS NULL RETURNING id",
        (iso(now), by, consultation_id),
    )
    return row is not None


async def add_proposal(
    conn: aiosqlite.Connection, consultation_id: int, user_id: int, p: NewProposal, now: datetime
) -> int:
    """Store a resident's proposal; return its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO consultation_comments (consultation_id, user_id, text, photo, at, program,"
        " cost, latitude, longitude) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (consultation_id, user_id, p.text, p.photo, iso(now), p.program, p.cost, p.latitude,
         p.longitude),
    )  # fmt: skip
    assert row is not None  # noqa: S101 - RETURNING always yields the row
    return int(row[0])


_PROPOSAL = (
    "SELECT id, consultation_id, user_id, program, text, cost, photo, latitude, longitude,"
    " verdict, answer FROM consultation_comments WHERE program IS NOT NULL"
)


def _proposal(r: aiosqlite.Row) -> Proposal:
    return Proposal(
        int(r[0]), int(r[1]), int(r[2]), str(r[3]), str(r[4]), r[5], r[6], r[7], r[8], r[9], r[10]
    )


async def get_proposal(conn: aiosqlite.Connection, proposal_id: int) -> Proposal | None:
    """One proposal."""
    row = await fetch_one(conn, _PROPOSAL + " AND id = ?", (proposal_id,))
    return _proposal(row) if row else None


async def proposals_of(conn: aiosqlite.Connection, user_id: int, limit: int = 10) -> list[Proposal]:
    """A resident's proposals, newest first."""
    rows = await fetch_all(
        conn, _PROPOSAL + " AND user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
    )
    return [_proposal(r) for r in rows]


async def unanswered(
    conn: aiosqlite.Connection, consultation_id: int, limit: int = 10, offset: int = 0
) -> list[Proposal]:
    """The proposals of a consultation still without a verdict, oldest first (from ``offset``)."""
    rows = await fetch_all(
        conn,
        _PROPOSAL + " AND consultation_id = ? AND verdict IS NULL ORDER BY id LIMIT ? OFFSET ?",
        (consultation_id, limit, offset),
    )
    return [_proposal(r) for r in rows]


async def answer(
    conn: aiosqlite.Connection, proposal_id: int, verdict: str, reason: str, by: int,
    now: datetime, *, was: str | None = None,
) -> bool:  # fmt: skip
    """The verdict and its reason, replacing the answer ``was`` (None: the first answer); two
    staff answering at once from the same card give one answer."""
    row = await fetch_one(
        conn,
        "UPDATE consultation_comments SET verdict = ?, answer = ?, answered_at = ?,"
        # IS NOT DISTINCT FROM: the NULL-safe comparison both SQLite (3.39+) and PostgreSQL know
        " answered_by = ? WHERE id = ? AND program IS NOT NULL"
        " AND verdict IS NOT DISTINCT FROM ? RETURNING id",
        (verdict, reason, iso(now), by, proposal_id, was),
    )
    return row is not None


async def answered(
    conn: aiosqlite.Connection, consultation_id: int, limit: int = 10, offset: int = 0
) -> list[Proposal]:
    """The answered proposals of a consultation, the latest answer first (from ``offset``)."""
    rows = await fetch_all(
        conn,
        _PROPOSAL + " AND consultation_id = ? AND verdict IS NOT NULL"
        " ORDER BY answered_at DESC, id DESC LIMIT ? OFFSET ?",
        (consultation_id, limit, offset),
    )
    return [_proposal(r) for r in rows]


async def counts(conn: aiosqlite.Connection, consultation_id: int) -> list[tuple[str, str, int]]:
    """(program, verdict or "", number of proposals) of a consultation."""
    rows = await fetch_all(
        conn,
        "SELECT program, COALESCE(verdict, ''), COUNT(*) FROM consultation_comments"
        " WHERE consultation_id = ? AND program IS NOT NULL GROUP BY program, verdict",
        (consultation_id,),
    )
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


async def proposers(
    conn: aiosqlite.Connection, consultation_id: int
) -> list[tuple[int, str, str, str | None]]:
    """(user id, channel, chat, language) of every reachable resident who proposed."""
    rows = await fetch_all(
        conn,
        "SELECT DISTINCT u.id, u.channel, u.chat_id, u.language FROM consultation_comments c"
        " JOIN users u ON u.id = c.user_id WHERE c.consultation_id = ? AND c.program IS NOT NULL"
        " AND u.unreachable = 0 ORDER BY u.id",
        (consultation_id,),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]

"""Participatory budgeting: rounds, their shortlisted projects, residents' ballots, paper votes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.sql import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Round:
    """A round of participatory budgeting: prepared, open for voting, or closed."""

    id: int
    title: str
    total: int  # para to share among the projects
    opened: bool
    closed: bool
    rule: str | None = None  # the ballot's rule kept when it opened: "total" or "projects"
    max_projects: int | None = None  # under "projects"

    @property
    def voting(self) -> bool:
        """Whether residents may vote now."""
        return self.opened and not self.closed


@dataclass(frozen=True, slots=True)
class Project:
    """A shortlisted project with its cost and, for the results, its votes."""

    id: int
    name: str
    cost: int
    votes: int = 0  # in the chat and on paper


_ROUND = (
    "SELECT id, title, total, opened_at IS NOT NULL, closed_at IS NOT NULL, rule, max_projects"
    " FROM pb_rounds"
)


def _round(r: aiosqlite.Row) -> Round:
    return Round(int(r[0]), str(r[1]), int(r[2]), bool(r[3]), bool(r[4]), r[5], r[6])


async def create(conn: aiosqlite.Connection, title: str, total: int, by: int, now: datetime) -> int:
    """A new round, not open yet; its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO pb_rounds (title, total, created_by, created_at) VALUES (?, ?, ?, ?)"
        " RETURNING id",
        (title, total, by, iso(now)),
    )
    assert row is not None  # noqa: S101 - RETURNING always yields the row
    return int(row[0])


async def current(conn: aiosqlite.Connection) -> Round | None:
    """The round not closed yet (prepared or open), if any."""
    row = await fetch_one(conn, _ROUND + " WHERE closed_at IS NULL ORDER BY id LIMIT 1")
    return _round(row) if row else None


async def get(conn: aiosqlite.Connection, round_id: int) -> Round | None:
    """One round."""
    row = await fetch_one(conn, _ROUND + " WHERE id = ?", (round_id,))
    return _round(row) if row else None


async def add_project(
    conn: aiosqlite.Connection, round_id: int, name: str, cost: int, by: int
) -> int:
    """Put a project on a prepared round's shortlist; its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO pb_projects (round_id, name, cost, added_by) VALUES (?, ?, ?, ?) RETURNING id",
        (round_id, name, cost, by),
    )
    assert row is not None  # noqa: S101 - RETURNING always yields the row
    return int(row[0])


async def open_round(
    conn: aiosqlite.Connection, round_id: int, by: int, now: datetime, max_projects: int | None
) -> bool:
    """Open a prepared round for voting, once, keeping its ballot's rule (``max_projects`` None:
    within the total); whether this call opened it."""
    rule = "total" if max_projects is None else "projects"
    row = await fetch_one(
        conn,
        "UPDATE pb_rounds SET opened_at = ?, opened_by = ?, rule = ?, max_projects = ?"
        " WHERE id = ? AND opened_at IS NULL RETURNING id",
        (iso(now), by, rule, max_projects, round_id),
    )
    return row is not None


async def close_round(conn: aiosqlite.Connection, round_id: int, by: int, now: datetime) -> bool:
    """Close an open round, once; whether this call closed it."""
    row = await fetch_one(
        conn,
        "UPDATE pb_rounds SET closed_at = ?, closed_by = ? WHERE id = ? AND opened_at IS NOT NULL"
        " AND closed_at IS NULL RETURNING id",
        (iso(now), by, round_id),
    )
    return row is not None


async def projects(conn: aiosqlite.Connection, round_id: int) -> list[Project]:
    """A round's shortlist in the order it was made, with the votes in chat and on paper."""
    rows = await fetch_all(
        conn,
        "SELECT p.id, p.name, p.cost,"
        " (SELECT COUNT(*) FROM pb_votes v WHERE v.project_id = p.id)"
        " + (SELECT COALESCE(SUM(votes), 0) FROM pb_paper_votes w WHERE w.project_id = p.id)"
        " FROM pb_projects p WHERE p.round_id = ? ORDER BY p.id",
        (round_id,),
    )
    return [Project(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


async def ballot(conn: aiosqlite.Connection, round_id: int, user_id: int) -> set[int]:
    """The projects a resident chose in a round."""
    rows = await fetch_all(
        conn,
        "SELECT project_id FROM pb_votes WHERE round_id = ? AND user_id = ?",
        (round_id, user_id),
    )
    return {int(r[0]) for r in rows}


async def choose(
    conn: aiosqlite.Connection, round_id: int, user_id: int, project_id: int, now: datetime
) -> None:
    """Add a project to a resident's ballot (the caller checked the total)."""
    await conn.execute(
        "INSERT INTO pb_votes (round_id, user_id, project_id, at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (round_id, user_id, project_id, iso(now)),
    )


async def unchoose(
    conn: aiosqlite.Connection, round_id: int, user_id: int, project_id: int
) -> None:
    """Take a project off a resident's ballot."""
    await conn.execute(
        "DELETE FROM pb_votes WHERE round_id = ? AND user_id = ? AND project_id = ?",
        (round_id, user_id, project_id),
    )


async def add_paper_votes(
    conn: aiosqlite.Connection, project_id: int, votes: int, by: int, now: datetime
) -> None:
    """Paper ballots counted at the municipality for one project (each addition kept)."""
    await conn.execute(
        "INSERT INTO pb_paper_votes (project_id, votes, added_by, at) VALUES (?, ?, ?, ?)",
        (project_id, votes, by, iso(now)),
    )


async def paper_count(conn: aiosqlite.Connection, project_id: int) -> int:
    """A project's paper votes: its additions and corrections summed."""
    row = await fetch_one(
        conn,
        "SELECT COALESCE(SUM(votes), 0) FROM pb_paper_votes WHERE project_id = ?",
        (project_id,),
    )
    return int(row[0]) if row else 0


async def correct_paper_votes(
    conn: aiosqlite.Connection, project_id: int, difference: int, by: int, now: datetime
) -> None:
    """A correction of a project's paper count, kept as its own signed row beside the additions
    (the caller keeps the count at zero or above)."""
    await conn.execute(
        "INSERT INTO pb_paper_votes (project_id, votes, added_by, at, corrects)"
        " VALUES (?, ?, ?, ?, 1)",
        (project_id, difference, by, iso(now)),
    )


async def voters(
    conn: aiosqlite.Connection, round_id: int
) -> list[tuple[int, str, str, str | None]]:
    """(user id, channel, chat, language) of every reachable resident who voted in a round."""
    rows = await fetch_all(
        conn,
        "SELECT DISTINCT u.id, u.channel, u.chat_id, u.language FROM pb_votes v"
        " JOIN users u ON u.id = v.user_id WHERE v.round_id = ? AND u.unreachable = 0"
        " ORDER BY u.id",
        (round_id,),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]

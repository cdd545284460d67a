"""Budget versions (adopted, rebalances, execution reports) and their lines; amounts in para."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.clock import iso
from storage.sql import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Line:
    """One spending or revenue line of a budget document."""

    number: int
    side: str  # "spending" or "revenue"
    program: str | None
    activity: str | None
    name: str
    function: str | None
    account: str
    source: str | None
    planned: int
    executed: int


@dataclass(frozen=True, slots=True)
class Version:
    """One imported document of a year's budget."""

    id: int
    year: int
    kind: str
    as_of: date
    file_name: str


@dataclass(frozen=True, slots=True)
class Total:
    """Planned and executed for one key (a program, an activity, a revenue account)."""

    key: str
    name: str
    planned: int
    executed: int


async def add_version(
    conn: aiosqlite.Connection,
    year: int,
    kind: str,
    as_of: date,
    file_name: str,
    lines: list[Line],
    *,
    imported_by: int | None,
    now: datetime,
    published: bool = True,
) -> int:
    """Store a document and its lines (in the caller's transaction); return the version id.

    An unpublished version (one previewed in chat) is not shown until ``publish``.
    """
    row = await fetch_one(
        conn,
        "INSERT INTO budget_versions (year, kind, as_of, file_name, imported_by, imported_at,"
        " published_at, published_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (year, kind, as_of.isoformat(), file_name, imported_by, iso(now),
         iso(now) if published else None, imported_by if published else None),
    )  # fmt: skip
    if row is None:
        raise RuntimeError("INSERT ... RETURNING gave no row")
    version_id = int(row[0])
    await conn.executemany(
        "INSERT INTO budget_lines (version_id, line, side, program, activity, name, function,"
        " account, source, planned, executed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (version_id, x.number, x.side, x.program, x.activity, x.name, x.function, x.account,
             x.source, x.planned, x.executed)
            for x in lines
        ],
    )  # fmt: skip
    return version_id


_VERSION = (
    "SELECT id, year, kind, as_of, file_name FROM budget_versions WHERE published_at IS NOT NULL"
)
_NEWEST_FIRST = " ORDER BY year DESC, as_of DESC, id DESC LIMIT 1"


def _version(r: aiosqlite.Row) -> Version:
    return Version(int(r[0]), int(r[1]), str(r[2]), date.fromisoformat(r[3]), str(r[4]))


async def latest(conn: aiosqlite.Connection, year: int | None = None) -> Version | None:
    """The newest version (of ``year``, or of the newest year imported)."""
    if year is None:
        row = await fetch_one(conn, _VERSION + _NEWEST_FIRST)
    else:
        row = await fetch_one(conn, _VERSION + " AND year = ?" + _NEWEST_FIRST, (year,))
    return _version(row) if row else None


async def get(conn: aiosqlite.Connection, version_id: int) -> Version | None:
    """One version by its id."""
    row = await fetch_one(conn, _VERSION + " AND id = ?", (version_id,))
    return _version(row) if row else None


async def before(conn: aiosqlite.Connection, year: int, as_of: date) -> Version | None:
    """The newest version of ``year`` as of ``as_of`` or before (what a new one follows)."""
    row = await fetch_one(
        conn, _VERSION + " AND year = ? AND as_of <= ?" + _NEWEST_FIRST, (year, as_of.isoformat())
    )
    return _version(row) if row else None


async def before_version(conn: aiosqlite.Connection, v: Version) -> Version | None:
    """The published version of ``v``'s year that ``v`` follows (by date, then by import)."""
    day = v.as_of.isoformat()
    row = await fetch_one(
        conn,
        _VERSION + " AND year = ? AND (as_of < ? OR (as_of = ? AND id < ?))" + _NEWEST_FIRST,
        (v.year, day, day, v.id),
    )
    return _version(row) if row else None


async def publish(conn: aiosqlite.Connection, version_id: int, by: int, now: datetime) -> bool:
    """Publish an unpublished version, once (two presses publish it once); whether it was."""
    row = await fetch_one(
        conn,
        "UPDATE budget_versions SET published_at = ?, published_by = ?"
        " WHERE id = ? AND published_at IS NULL RETURNING id",
        (iso(now), by, version_id),
    )
    return row is not None


async def stored(conn: aiosqlite.Connection, version_id: int) -> Version | None:
    """One version by its id, published or only prepared."""
    row = await fetch_one(
        conn,
        "SELECT id, year, kind, as_of, file_name FROM budget_versions WHERE id = ?",
        (version_id,),
    )
    return _version(row) if row else None


async def drop_unpublished(
    conn: aiosqlite.Connection, *, version_id: int | None = None, imported_by: int | None = None
) -> list[Version]:
    """Delete an unpublished version (by id, or every one an admin prepared) with its lines (the
    foreign key's ON DELETE CASCADE deletes them in the same statement); those deleted."""
    rows = await fetch_all(
        conn,
        "DELETE FROM budget_versions WHERE published_at IS NULL AND (id = ? OR imported_by = ?)"
        " RETURNING id, year, kind, as_of, file_name",
        (version_id, imported_by),
    )
    return [_version(r) for r in rows]


async def program_totals(conn: aiosqlite.Connection, version_id: int) -> list[Total]:
    """Planned and executed per program, the largest first."""
    rows = await fetch_all(
        conn,
        "SELECT program, '', SUM(planned), SUM(executed) FROM budget_lines"
        " WHERE version_id = ? AND side = 'spending' GROUP BY program"
        " ORDER BY SUM(planned) DESC, program",
        (version_id,),
    )
    return [Total(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


async def activity_totals(conn: aiosqlite.Connection, version_id: int, program: str) -> list[Total]:
    """Planned and executed per activity or project of one program, the largest first."""
    rows = await fetch_all(
        conn,
        "SELECT activity, MIN(name), SUM(planned), SUM(executed) FROM budget_lines"
        " WHERE version_id = ? AND side = 'spending' AND program = ? GROUP BY activity"
        " ORDER BY SUM(planned) DESC, activity",
        (version_id, program),
    )
    return [Total(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


async def revenue_totals(conn: aiosqlite.Connection, version_id: int) -> list[Total]:
    """Planned and executed per revenue account."""
    rows = await fetch_all(
        conn,
        "SELECT account, MIN(name), SUM(planned), SUM(executed) FROM budget_lines"
        " WHERE version_id = ? AND side = 'revenue' GROUP BY account ORDER BY account",
        (version_id,),
    )
    return [Total(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


async def lines_of(conn: aiosqlite.Connection, version_id: int) -> list[Line]:
    """Every line of one version, in the document's order (the open data set)."""
    rows = await fetch_all(
        conn,
        "SELECT line, side, program, activity, name, function, account, source, planned,"
        " executed FROM budget_lines WHERE version_id = ? ORDER BY line",
        (version_id,),
    )
    return [
        Line(int(r[0]), str(r[1]), r[2], r[3], str(r[4]), r[5], str(r[6]), r[7], int(r[8]),
             int(r[9]))
        for r in rows
    ]  # fmt: skip

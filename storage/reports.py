"""Reports, their photos and their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.clock import iso, parse
from storage.sql import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class NewPhoto:
    """A stored photo to attach to a report."""

    path: str
    sha256: str
    channel: str
    file_id: str


@dataclass(frozen=True, slots=True)
class NewReport:
    """What a resident's confirmed draft becomes."""

    user_id: int
    category: str
    service: str
    description: str
    latitude: float | None
    longitude: float | None
    address: str | None
    photos: tuple[NewPhoto, ...]
    sla_hours: int


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """One line of a resident's list of reports."""

    id: int
    ref: str
    category: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReportEvent:
    """One entry in a report's history."""

    at: datetime
    kind: str
    old_status: str | None
    new_status: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class Report:
    """A report with its photos and history."""

    id: int
    ref: str
    user_id: int
    category: str
    service: str
    description: str
    latitude: float | None
    longitude: float | None
    address: str | None
    status: str
    created_at: datetime
    sla_due_at: datetime
    photo_paths: tuple[str, ...]
    events: tuple[ReportEvent, ...]


async def create_report(
    conn: aiosqlite.Connection, code: str, report: NewReport, now: datetime
) -> str:
    """Store a report with its photos and first history event; return its public reference.

    The sequence is per year and is taken inside the caller's write transaction, so two
    reports can never get the same number.
    """
    year = now.year
    due = now + timedelta(hours=report.sla_hours)
    row = await fetch_one(
        conn,
        "INSERT INTO reports (ref, year, seq, user_id, category, service, description, latitude,"
        " longitude, address, status, created_at, updated_at, sla_due_at)"
        " SELECT printf('%s-%d-%05d', ?, ?, n), ?, n, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?"
        " FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM reports WHERE year = ?)"
        " RETURNING id, ref",
        (
            code,
            year,
            year,
            report.user_id,
            report.category,
            report.service,
            report.description,
            report.latitude,
            report.longitude,
            report.address,
            iso(now),
            iso(now),
            iso(due),
            year,
        ),
    )
    assert row is not None  # noqa: S101 - RETURNING always yields the new row
    report_id, ref = int(row[0]), str(row[1])
    if report.photos:
        await conn.executemany(
            "INSERT INTO report_photos (report_id, position, path, sha256, channel, file_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (report_id, i, p.path, p.sha256, p.channel, p.file_id)
                for i, p in enumerate(report.photos)
            ],
        )
    await conn.execute(
        "INSERT INTO report_events (report_id, at, actor_id, kind, old_status, new_status)"
        " VALUES (?, ?, ?, 'created', NULL, 'new')",
        (report_id, iso(now), report.user_id),
    )
    return ref


async def list_for_user(
    conn: aiosqlite.Connection, user_id: int, limit: int = 10
) -> list[ReportSummary]:
    """Return a user's reports, newest first."""
    rows = await fetch_all(
        conn,
        "SELECT id, ref, category, status, created_at FROM reports WHERE user_id = ?"
        " ORDER BY id DESC LIMIT ?",
        (user_id, limit),
    )
    return [ReportSummary(r[0], r[1], r[2], r[3], parse(r[4])) for r in rows]


async def count_for_user(conn: aiosqlite.Connection, user_id: int) -> int:
    """Count a user's reports."""
    row = await fetch_one(conn, "SELECT COUNT(*) FROM reports WHERE user_id = ?", (user_id,))
    return int(row[0]) if row else 0


async def get_report(conn: aiosqlite.Connection, report_id: int) -> Report | None:
    """Load one report with its photos and history."""
    r = await fetch_one(
        conn,
        "SELECT id, ref, user_id, category, service, description, latitude, longitude, address,"
        " status, created_at, sla_due_at FROM reports WHERE id = ?",
        (report_id,),
    )
    if r is None:
        return None
    photo_rows = await fetch_all(
        conn, "SELECT path FROM report_photos WHERE report_id = ? ORDER BY position", (report_id,)
    )
    event_rows = await fetch_all(
        conn,
        "SELECT at, kind, old_status, new_status, text FROM report_events WHERE report_id = ?"
        " ORDER BY id",
        (report_id,),
    )
    photos = tuple(row[0] for row in photo_rows)
    events = tuple(ReportEvent(parse(e[0]), e[1], e[2], e[3], e[4]) for e in event_rows)
    return Report(
        id=r[0], ref=r[1], user_id=r[2], category=r[3], service=r[4], description=r[5],
        latitude=r[6], longitude=r[7], address=r[8], status=r[9], created_at=parse(r[10]),
        sla_due_at=parse(r[11]), photo_paths=photos, events=events,
    )  # fmt: skip


async def record_start(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """Remember that a user started a report."""
    await conn.execute("INSERT INTO report_starts (user_id, at) VALUES (?, ?)", (user_id, iso(now)))


async def starts_since(conn: aiosqlite.Connection, user_id: int, since: datetime) -> int:
    """Count the reports a user started since a moment."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM report_starts WHERE user_id = ? AND at > ?",
        (user_id, iso(since)),
    )
    return int(row[0]) if row else 0

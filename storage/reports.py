"""Reports, their photos and their history."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage import status
from storage.clock import iso, parse
from storage.db import deferring, write_behind
from storage.sql import Statement, fetch_all, fetch_one, on_thread
from storage.status import Status

OPEN_STATUSES = status.OPEN


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
    anonymous: bool = False
    voice: str | None = None  # a stored voice note that describes the problem


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """One line of a resident's list of reports."""

    id: int
    ref: str
    category: str
    status: str
    created_at: datetime
    sla_due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportEvent:
    """One entry in a report's history."""

    at: datetime
    kind: str
    old_status: str | None
    new_status: str | None
    text: str | None
    public: bool = True
    photo: str | None = None
    voice: str | None = None


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
    anonymous: bool = False
    resolved_at: datetime | None = None
    followers: int = 0  # residents who reported the same problem after the reporter
    voice: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether the municipality still has to act on the report."""
        return self.status in OPEN_STATUSES


# printf() is SQLite's (PostgreSQL: format('%s-%s-%s', ?, ?, lpad(n::text, 5, '0'))): the
# reference is made in the statement that takes its number, so two reports never share one.
_INSERT_REPORT = (
    "INSERT INTO reports (ref, year, seq, user_id, category, service, description, latitude,"
    " longitude, address, status, created_at, updated_at, sla_due_at, anonymous,"
    " sla_started_at, voice)"
    " SELECT printf('%s-%d-%05d', ?, ?, n), ?, n, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
    " FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM reports WHERE year = ?) AS next_seq"
    " RETURNING id, ref, seq"
)
_INSERT_NUMBERED = (
    "INSERT INTO reports (id, ref, year, seq, user_id, category, service, description, latitude,"
    " longitude, address, status, created_at, updated_at, sla_due_at, anonymous,"
    " sla_started_at, voice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_PHOTO = (
    "INSERT INTO report_photos (report_id, position, path, sha256, channel, file_id)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_CREATED = (
    "INSERT INTO report_events (report_id, at, actor_id, kind, old_status, new_status)"
    " VALUES (?, ?, ?, 'created', NULL, ?)"
)


@dataclass(frozen=True, slots=True)
class FreeNumbers:
    """The next free report id and number of the year, read ahead at the batch's start."""

    id: int
    seq: int


def next_id_statement() -> Statement:
    """The next free report id (as SQLite would choose it), to read ahead."""
    return ("SELECT COALESCE(MAX(id), 0) + 1 FROM reports", ())


def next_seq_statement(now: datetime) -> Statement:
    """The next free number of ``now``'s year, to read ahead."""
    return ("SELECT COALESCE(MAX(seq), 0) + 1 FROM reports WHERE year = ?", (now.year,))


def _ref(code: str, year: int, seq: int) -> str:
    return f"{code}-{year}-{seq:05d}"  # as _INSERT_REPORT's printf writes it


async def file_report(
    conn: aiosqlite.Connection,
    code: str,
    report: NewReport,
    now: datetime,
    *,
    free: FreeNumbers | None = None,
) -> Report:
    """Store a report with its photos and first history event; return it as it is stored.

    The sequence is per year and is taken inside the caller's write transaction, so two
    reports can never get the same number. With the numbers read ahead (``free``), in a write
    transaction, the report takes them and its statements wait for the transaction's next call
    (no call of its own: the confirmation names the number); a number that another insert took
    since fails that call on the unique key, and the batch runs again. Else its statements run
    together on the database thread: one call, and no read of what was just written.
    """
    year, at, due = now.year, iso(now), iso(now + timedelta(hours=report.sla_hours))
    writer = deferring(conn)
    if writer is not None and free is not None:
        report_id = writer.take_number("reports.id", free.id)
        seq = writer.take_number(f"reports.seq:{year}", free.seq)
        ref = _ref(code, year, seq)
        await write_behind(conn, _numbered_statements(report, report_id, ref, seq, year, at, due))
    else:
        report_id, ref, seq = await _insert_now(conn, code, report, year, at, due)
        if writer is not None:  # the numbers it took are taken for the rest of the transaction
            writer.took_number("reports.id", report_id)
            writer.took_number(f"reports.seq:{year}", seq)
    return Report(
        id=report_id, ref=ref, user_id=report.user_id, category=report.category,
        service=report.service, description=report.description, latitude=report.latitude,
        longitude=report.longitude, address=report.address, status=Status.NEW,
        created_at=parse(at), sla_due_at=parse(due),
        photo_paths=tuple(p.path for p in report.photos),
        events=(ReportEvent(parse(at), "created", None, Status.NEW, None),),
        anonymous=report.anonymous, voice=report.voice,
    )  # fmt: skip


def _numbered_statements(
    report: NewReport, report_id: int, ref: str, seq: int, year: int, at: str, due: str
) -> list[Statement]:
    """A report's statements with its id and number taken beforehand."""
    row = (
        report_id, ref, year, seq, report.user_id, report.category, report.service,
        report.description, report.latitude, report.longitude, report.address, Status.NEW, at,
        at, due, int(report.anonymous), at, report.voice,
    )  # fmt: skip
    return [
        (_INSERT_NUMBERED, row),
        *((_INSERT_PHOTO, (report_id, i, p.path, p.sha256, p.channel, p.file_id))
          for i, p in enumerate(report.photos)),
        (_INSERT_CREATED, (report_id, at, report.user_id, Status.NEW)),
    ]  # fmt: skip


async def _insert_now(
    conn: aiosqlite.Connection, code: str, report: NewReport, year: int, at: str, due: str
) -> tuple[int, str, int]:
    """Insert a report numbered by the database, in one call; its id, ref and number."""
    params = (
        code, year, year, report.user_id, report.category, report.service, report.description,
        report.latitude, report.longitude, report.address, Status.NEW, at, at, due,
        int(report.anonymous), at, report.voice, year,
    )  # fmt: skip

    def insert(raw: sqlite3.Connection) -> tuple[int, str, int]:
        report_id, ref, seq = raw.execute(_INSERT_REPORT, params).fetchone()
        raw.executemany(
            _INSERT_PHOTO,
            [(report_id, i, p.path, p.sha256, p.channel, p.file_id)
             for i, p in enumerate(report.photos)],
        )  # fmt: skip
        raw.execute(_INSERT_CREATED, (report_id, at, report.user_id, Status.NEW))
        return int(report_id), str(ref), int(seq)

    return await on_thread(conn, insert)


async def create_report(
    conn: aiosqlite.Connection, code: str, report: NewReport, now: datetime
) -> str:
    """Store a report (as ``file_report``); return its public reference."""
    return (await file_report(conn, code, report, now)).ref


async def list_for_user(
    conn: aiosqlite.Connection, user_id: int, limit: int = 10
) -> list[ReportSummary]:
    """Return a user's reports and those they follow ("me too"), newest first."""
    rows = await fetch_all(
        conn,
        "SELECT id, ref, category, status, created_at FROM reports WHERE user_id = ? OR id IN"
        " (SELECT report_id FROM report_followers WHERE user_id = ?) ORDER BY id DESC LIMIT ?",
        (user_id, user_id, limit),
    )
    return [ReportSummary(r[0], r[1], r[2], r[3], parse(r[4])) for r in rows]


async def count_for_user(conn: aiosqlite.Connection, user_id: int) -> int:
    """Count a user's reports and those they follow."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM reports WHERE user_id = ? OR id IN"
        " (SELECT report_id FROM report_followers WHERE user_id = ?)",
        (user_id, user_id),
    )
    return int(row[0]) if row else 0


_REPORT = (
    "SELECT id, ref, user_id, category, service, description, latitude, longitude, address,"
    " status, created_at, sla_due_at, anonymous, resolved_at,"
    " (SELECT COUNT(*) FROM report_followers f WHERE f.report_id = reports.id), voice"
    " FROM reports"
)


async def find_by_ref(conn: aiosqlite.Connection, ref: str) -> Report | None:
    """Load a report by its public reference (any case)."""
    row = await fetch_one(conn, "SELECT id FROM reports WHERE ref = ?", (ref.strip().upper(),))
    return await get_report(conn, int(row[0])) if row else None


async def get_report(conn: aiosqlite.Connection, report_id: int) -> Report | None:
    """Load one report with its photos and history."""
    r = await fetch_one(conn, _REPORT + " WHERE id = ?", (report_id,))
    if r is None:
        return None
    photo_rows = await fetch_all(
        conn, "SELECT path FROM report_photos WHERE report_id = ? ORDER BY position", (report_id,)
    )
    event_rows = await fetch_all(
        conn,
        "SELECT at, kind, old_status, new_status, text, public, photo, voice FROM report_events"
        " WHERE report_id = ? ORDER BY id",
        (report_id,),
    )
    photos = tuple(row[0] for row in photo_rows)
    events = tuple(
        ReportEvent(parse(e[0]), e[1], e[2], e[3], e[4], bool(e[5]), e[6], e[7]) for e in event_rows
    )
    return Report(
        id=r[0], ref=r[1], user_id=r[2], category=r[3], service=r[4], description=r[5],
        latitude=r[6], longitude=r[7], address=r[8], status=r[9], created_at=parse(r[10]),
        sla_due_at=parse(r[11]), photo_paths=photos, events=events, anonymous=bool(r[12]),
        resolved_at=parse(r[13]) if r[13] else None, followers=int(r[14]), voice=r[15],
    )  # fmt: skip


def recent_starts_statement(channel: str, external_id: str, since: datetime) -> Statement:
    """The statement that counts a user's report starts since a moment (to read ahead)."""
    return (
        "SELECT COUNT(*) FROM report_starts s JOIN users u ON u.id = s.user_id"
        " WHERE u.channel = ? AND u.external_id = ? AND s.at > ?",
        (channel, external_id, iso(since)),
    )


async def record_start(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """Record a report start that the count read ahead allows (written with the next call)."""
    await write_behind(
        conn, [("INSERT INTO report_starts (user_id, at) VALUES (?, ?)", (user_id, iso(now)))]
    )


async def transition(
    conn: aiosqlite.Connection,
    report_id: int,
    old: str,
    new: str,
    *,
    actor_id: int | None,
    now: datetime,
    text: str | None = None,
    sla_hours: int | None = None,
) -> bool:
    """Change a report's status if it is still ``old``, with its history event.

    A reopened report gets a new SLA deadline (``sla_hours`` from now) and its SLA alerts anew.
    Returns False when the status changed in the meantime (another operator was faster), and
    then nothing is written.
    """
    due = iso(now + timedelta(hours=sla_hours)) if sla_hours is not None else None
    changed = await fetch_one(
        conn,
        "UPDATE reports SET status = :new, updated_at = :now,"
        " acknowledged_at = CASE WHEN :new = :ack THEN :now ELSE acknowledged_at END,"
        " resolved_at = CASE WHEN :new = :resolved THEN :now ELSE resolved_at END,"
        " sla_due_at = CASE WHEN :new = :reopened AND :due IS NOT NULL THEN :due"
        "   ELSE sla_due_at END,"
        " sla_started_at = CASE WHEN :new = :reopened AND :due IS NOT NULL THEN :now"
        "   ELSE sla_started_at END,"
        " sla_flagged_at = CASE WHEN :new = :reopened THEN NULL ELSE sla_flagged_at END,"
        " sla_escalated_at = CASE WHEN :new = :reopened THEN NULL ELSE sla_escalated_at END"
        " WHERE id = :id AND status = :old RETURNING 1",
        {
            "new": new,
            "now": iso(now),
            "due": due,
            "id": report_id,
            "old": old,
            "ack": Status.ACKNOWLEDGED,
            "resolved": Status.RESOLVED,
            "reopened": Status.REOPENED,
        },
    )
    if changed is None:
        return False
    await add_event(
        conn, report_id, "status", actor_id=actor_id, now=now, text=text, old=old, new=new
    )
    return True


async def add_event(
    conn: aiosqlite.Connection,
    report_id: int,
    kind: str,
    *,
    actor_id: int | None,
    now: datetime,
    text: str | None = None,
    old: str | None = None,
    new: str | None = None,
    public: bool = True,
    photo: str | None = None,
    voice: str | None = None,
) -> None:
    """Add an entry to a report's history."""
    await conn.execute(
        "INSERT INTO report_events (report_id, at, actor_id, kind, old_status, new_status, text,"
        " public, photo, voice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (report_id, iso(now), actor_id, kind, old, new, text, int(public), photo, voice),
    )


async def reassign(
    conn: aiosqlite.Connection, report_id: int, service: str, *, actor_id: int, now: datetime
) -> None:
    """Give a report to another service."""
    await conn.execute(
        "UPDATE reports SET service = ?, updated_at = ? WHERE id = ?",
        (service, iso(now), report_id),
    )
    await add_event(conn, report_id, "rerouted", actor_id=actor_id, now=now, text=service)


async def open_reports(
    conn: aiosqlite.Connection, services: tuple[str, ...] | None, limit: int = 30
) -> list[ReportSummary]:
    """Open reports of some services (all when None), oldest first."""
    marks = ",".join("?" * len(services or ()))
    where = f" AND service IN ({marks})" if services is not None else ""
    rows = await fetch_all(
        conn,
        "SELECT id, ref, category, status, created_at, sla_due_at FROM reports"  # noqa: S608
        f" WHERE status IN ({status.marks(status.OPEN)}){where}"
        " ORDER BY id LIMIT ?",
        (*status.OPEN, *(services or ()), limit),
    )
    return [ReportSummary(r[0], r[1], r[2], r[3], parse(r[4]), parse(r[5])) for r in rows]


@dataclass(frozen=True, slots=True)
class ServiceStats:
    """Figures of one service over a period."""

    service: str
    by_status: dict[str, int]
    median_ack_hours: float | None
    median_resolve_hours: float | None
    overdue: int


async def stats(conn: aiosqlite.Connection, since: datetime, now: datetime) -> list[ServiceStats]:
    """Per service: reports since a moment by status, median hours to act, open past the SLA."""
    rows = await fetch_all(
        conn,
        "SELECT service, status, created_at, acknowledged_at, resolved_at, sla_due_at"
        " FROM reports WHERE created_at >= ?",
        (iso(since),),
    )
    grouped: dict[str, list[aiosqlite.Row]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return [_service_stats(service, items, now) for service, items in sorted(grouped.items())]


def _service_stats(service: str, rows: list[aiosqlite.Row], now: datetime) -> ServiceStats:
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row[1]] = by_status.get(row[1], 0) + 1
    overdue = sum(1 for r in rows if r[1] in OPEN_STATUSES and parse(r[5]) < now)
    return ServiceStats(service, by_status, _median_hours(rows, 3), _median_hours(rows, 4), overdue)


def _median_hours(rows: list[aiosqlite.Row], column: int) -> float | None:
    hours = sorted(
        (parse(r[column]) - parse(r[2])).total_seconds() / 3600 for r in rows if r[column]
    )
    if not hours:
        return None
    middle = len(hours) // 2
    return hours[middle] if len(hours) % 2 else (hours[middle - 1] + hours[middle]) / 2


async def resolved_before(conn: aiosqlite.Connection, moment: datetime) -> list[int]:
    """Ids of reports resolved before a moment whose resident never confirmed the fix."""
    rows = await fetch_all(
        conn,
        "SELECT id FROM reports WHERE status = ? AND resolved_at < ? ORDER BY id",
        (Status.RESOLVED, iso(moment)),
    )
    return [int(r[0]) for r in rows]


@dataclass(frozen=True, slots=True)
class Late:
    """A report past its SLA that was not acknowledged."""

    id: int
    ref: str
    service: str
    created_at: datetime
    sla_due_at: datetime


async def late_to_flag(conn: aiosqlite.Connection, now: datetime) -> list[Late]:
    """Reports not acknowledged within their SLA and not flagged yet; marks them flagged."""
    rows = await fetch_all(
        conn,
        "UPDATE reports SET sla_flagged_at = ?"  # noqa: S608 - only placeholders are formatted
        f" WHERE status IN ({status.marks(status.AWAITING_ACKNOWLEDGEMENT)})"
        " AND sla_due_at < ? AND sla_flagged_at IS NULL"
        " RETURNING id, ref, service, COALESCE(sla_started_at, created_at), sla_due_at",
        (iso(now), *status.AWAITING_ACKNOWLEDGEMENT, iso(now)),
    )
    return [Late(r[0], r[1], r[2], parse(r[3]), parse(r[4])) for r in rows]


async def late_to_escalate(conn: aiosqlite.Connection, now: datetime) -> list[Late]:
    """Reports not acknowledged within twice their SLA and not escalated yet; marks them."""
    # julianday() is SQLite's: the moments are text, which SQL cannot subtract (see opendata).
    rows = await fetch_all(
        conn,
        "UPDATE reports SET sla_escalated_at = ?"  # noqa: S608 - only placeholders are formatted
        f" WHERE status IN ({status.marks(status.AWAITING_ACKNOWLEDGEMENT)})"
        " AND sla_escalated_at IS NULL"
        " AND 2 * julianday(sla_due_at) - julianday(COALESCE(sla_started_at, created_at))"
        "   < julianday(?)"
        " RETURNING id, ref, service, COALESCE(sla_started_at, created_at), sla_due_at",
        (iso(now), *status.AWAITING_ACKNOWLEDGEMENT, iso(now)),
    )
    return [Late(r[0], r[1], r[2], parse(r[3]), parse(r[4])) for r in rows]


async def claim_digest(conn: aiosqlite.Connection, service: str, day: str) -> bool:
    """Record that a service's digest of ``day`` is sent; False if it was already."""
    row = await fetch_one(
        conn,
        "INSERT INTO digests_sent (service, day) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING 1",
        (service, day),
    )
    return row is not None


@dataclass(frozen=True, slots=True)
class Digest:
    """A service's morning figures."""

    new: int
    overdue: int
    resolved_yesterday: int


async def digest(
    conn: aiosqlite.Connection, service: str, now: datetime, day_start: datetime
) -> Digest:
    """New (open, not acknowledged), overdue, and resolved since the start of yesterday."""
    row = await fetch_one(
        conn,
        "SELECT"  # noqa: S608 - only placeholders are formatted
        f" SUM(CASE WHEN status IN ({status.marks(status.AWAITING_ACKNOWLEDGEMENT)}) THEN 1 END),"
        f" SUM(CASE WHEN status IN ({status.marks(status.OPEN)}) AND sla_due_at < ? THEN 1 END),"
        " SUM(CASE WHEN resolved_at >= ? AND resolved_at < ? THEN 1 END)"
        " FROM reports WHERE service = ?",
        (
            *status.AWAITING_ACKNOWLEDGEMENT,
            *status.OPEN,
            iso(now),
            iso(day_start - timedelta(days=1)),
            iso(day_start),
            service,
        ),
    )
    values = [int(v or 0) for v in row] if row else [0, 0, 0]
    return Digest(*values)

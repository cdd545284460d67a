"""What the public may see of the reports (the Open311 API, the data sets, the site).

Only reports that staff have not marked not public, and of those only public facts: no user,
no contact, no internal note, no question or answer of the resident.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import status
from storage.clock import iso, parse
from storage.sql import fetch_all, fetch_one, on_thread

# The history a visitor may read: the filing, the status changes (with the note that the
# resident got) and the municipality's public answers. Migration 0029's triggers name them too
# (only these move a report's revision and updated_at): change both together.
PUBLIC_EVENT_KINDS = ("created", "status", "reply")
MAX_IDS = 1000


@dataclass(frozen=True, slots=True)
class PublicNote:
    """One entry of a report's public history."""

    report_id: int
    event_id: int
    at: datetime
    kind: str
    new_status: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class PublicReport:
    """The public facts of one report."""

    id: int
    ref: str
    category: str
    service: str
    status: str
    description: str
    latitude: float | None
    longitude: float | None
    address: str | None
    created_at: datetime
    updated_at: datetime
    sla_due_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    photo_sha256: str | None
    source: str
    status_notes: str | None = None  # the note of the last status change
    revision: int = 0  # raised by the database with every public change (migrations 0025, 0029)
    handed_to: str | None = None  # the outside body it was handed over to (its id), if any
    status_changed_at: datetime | None = None  # its last public status change, if any

    @property
    def is_open(self) -> bool:
        """Whether the municipality still has to act on it."""
        return self.status in status.OPEN

    @property
    def last_change(self) -> datetime:
        """Open311's ``updated_datetime``, published as such everywhere: while the report is open,
        its last public change (``updated_at``: filed, a status change, a public answer); once it
        is closed (Open311's ``closed``: resolved, closed, rejected, handed off), when it was
        closed, its last status change, as GeoReport v2 says ("for requests with status=closed,
        this will be the date the request was closed"): an answer given after that is in its
        history (and in the updates) but does not make the closed request look changed."""
        if self.is_open or self.status_changed_at is None:
            return self.updated_at
        return self.status_changed_at


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """The filters of a list of reports (Open311's GET requests)."""

    start: datetime
    end: datetime
    refs: tuple[str, ...] = ()  # when given, the other filters do not apply
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    limit: int = 1000
    offset: int = 0


# With the report, its last public status change (s): its note and its time.
_SELECT = (
    "SELECT r.id, r.ref, r.category, r.service, r.status, r.description, r.latitude,"
    " r.longitude, r.address, r.created_at, r.updated_at, r.sla_due_at, r.acknowledged_at,"
    " r.resolved_at, (SELECT p.sha256 FROM report_photos p WHERE p.report_id = r.id"
    " ORDER BY p.position LIMIT 1), r.source, s.text, r.revision, r.handed_to, s.at"
    " FROM reports r LEFT JOIN report_events s ON s.id = (SELECT e.id FROM report_events e"
    " WHERE e.report_id = r.id AND e.kind = 'status' AND e.public = 1 ORDER BY e.id DESC LIMIT 1)"
    " WHERE r.public = 1"
)


def _report(r: aiosqlite.Row | sqlite3.Row) -> PublicReport:
    return PublicReport(
        id=r[0], ref=r[1], category=r[2], service=r[3], status=r[4], description=r[5],
        latitude=r[6], longitude=r[7], address=r[8], created_at=parse(r[9]),
        updated_at=parse(r[10]), sla_due_at=parse(r[11]),
        acknowledged_at=parse(r[12]) if r[12] else None,
        resolved_at=parse(r[13]) if r[13] else None, photo_sha256=r[14], source=r[15],
        status_notes=r[16], revision=r[17], handed_to=r[18],
        status_changed_at=parse(r[19]) if r[19] else None,
    )  # fmt: skip


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _filters(query: RequestQuery) -> tuple[str, list[object]]:
    """The WHERE (after ``r.public = 1``) of a list of reports, and its parameters."""
    if query.refs:
        refs = query.refs[:MAX_IDS]
        return f" AND r.ref IN ({_marks(refs)})", list(refs)
    where = " AND r.created_at >= ? AND r.created_at <= ?"
    params: list[object] = [iso(query.start), iso(query.end)]
    if query.categories:
        where += f" AND r.category IN ({_marks(query.categories)})"
        params += query.categories
    if query.statuses:
        where += f" AND r.status IN ({_marks(query.statuses)})"
        params += query.statuses
    return where, params


_NEWEST_FIRST = " ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?"


async def find_requests(conn: aiosqlite.Connection, query: RequestQuery) -> list[PublicReport]:
    """Public reports by reference, or by time, category and status; newest first."""
    where, params = _filters(query)
    rows = await fetch_all(
        conn, _SELECT + where + _NEWEST_FIRST, (*params, query.limit, query.offset)
    )
    return [_report(r) for r in rows]


async def listed_requests(conn: aiosqlite.Connection, query: RequestQuery) -> list[tuple[int, int]]:
    """The ids and revisions of what ``find_requests`` finds, in its order (a fraction of its
    cost: a caller that keeps each report's published text fetches only the changed ones)."""
    where, params = _filters(query)
    rows = await fetch_all(
        conn,
        "SELECT r.id, r.revision FROM reports r WHERE r.public = 1"  # noqa: S608 - placeholders
        + where
        + _NEWEST_FIRST,
        (*params, query.limit, query.offset),
    )
    return [(int(r[0]), int(r[1])) for r in rows]


async def find_by_ids(conn: aiosqlite.Connection, ids: Sequence[int]) -> list[PublicReport]:
    """Those of the reports ``ids`` that are public (any order)."""
    found: list[PublicReport] = []
    for start in range(0, len(ids), MAX_IDS):
        part = ids[start : start + MAX_IDS]
        rows = await fetch_all(conn, _SELECT + f" AND r.id IN ({_marks(part)})", part)
        found += [_report(r) for r in rows]
    return found


@dataclass(frozen=True, slots=True)
class Changes:
    """The database's counters of changes to the reports (migration 0025): what is computed
    from the reports stays valid while the counter it depends on stays the same."""

    any: int  # any report, its history or its photos
    figures: int  # what the map and the scorecards show: filed, public, place, status, times


async def changes(conn: aiosqlite.Connection) -> Changes:
    """The counters as they are now."""
    row = await fetch_one(conn, "SELECT n, figures FROM report_changes WHERE id = 1")
    return Changes(int(row[0]), int(row[1])) if row else Changes(0, 0)


async def find_request(conn: aiosqlite.Connection, ref: str) -> PublicReport | None:
    """One public report by its reference (any case)."""
    row = await fetch_one(conn, _SELECT + " AND r.ref = ?", (ref.strip().upper(),))
    return _report(row) if row else None


async def data_set_changes(conn: aiosqlite.Connection) -> tuple[int, int]:
    """The counters of changes to what the data sets are made of: the reports' (any change,
    migration 0025) and the budget's, the action plan's and the library's (migration 0033)."""
    row = await fetch_one(
        conn,
        "SELECT r.n, d.n FROM report_changes r CROSS JOIN data_set_changes d"
        " WHERE r.id = 1 AND d.id = 1",
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def all_public(conn: aiosqlite.Connection) -> list[PublicReport]:
    """Every public report, oldest first (the data sets). Read and made on the database's
    thread in one hop: made on the event loop, thousands of them held it (and the bot's events
    with it) for hundreds of milliseconds."""

    def read(raw: sqlite3.Connection) -> list[PublicReport]:
        return [_report(r) for r in raw.execute(_SELECT + " ORDER BY r.id")]

    return await on_thread(conn, read)


async def notes_of(conn: aiosqlite.Connection, report_ids: Sequence[int]) -> list[PublicNote]:
    """The public history of some reports, in order."""
    if not report_ids:
        return []
    rows = await fetch_all(
        conn,
        "SELECT report_id, id, at, kind, new_status, text FROM report_events"  # noqa: S608
        f" WHERE report_id IN ({_marks(report_ids)}) AND public = 1"
        f" AND kind IN ({_marks(PUBLIC_EVENT_KINDS)}) ORDER BY report_id, id",
        (*report_ids, *PUBLIC_EVENT_KINDS),
    )
    return [PublicNote(r[0], r[1], parse(r[2]), r[3], r[4], r[5]) for r in rows]


async def updates_between(
    conn: aiosqlite.Connection, start: datetime, end: datetime, limit: int = 1000
) -> list[tuple[PublicNote, str]]:
    """Public status changes and answers of public reports in a period, with their reference."""
    rows = await fetch_all(
        conn,
        "SELECT e.report_id, e.id, e.at, e.kind, e.new_status, e.text, r.ref,"
        # An answer carries the status the report had when it was given.
        " (SELECT s.new_status FROM report_events s WHERE s.report_id = e.report_id"
        "  AND s.new_status IS NOT NULL AND s.id < e.id ORDER BY s.id DESC LIMIT 1)"
        " FROM report_events e JOIN reports r ON r.id = e.report_id"
        " WHERE r.public = 1 AND e.public = 1 AND e.kind IN ('status', 'reply')"
        " AND e.at >= ? AND e.at <= ? ORDER BY e.id LIMIT ?",
        (iso(start), iso(end), limit),
    )
    return [
        (PublicNote(r[0], r[1], parse(r[2]), r[3], r[4] or r[7], r[5]), str(r[6])) for r in rows
    ]


async def public_photo(conn: aiosqlite.Connection, sha256: str) -> str | None:
    """The stored path of a photo of a public report, or None."""
    row = await fetch_one(
        conn,
        "SELECT p.path FROM report_photos p JOIN reports r ON r.id = p.report_id"
        " WHERE p.sha256 = ? AND r.public = 1 LIMIT 1",
        (sha256,),
    )
    return str(row[0]) if row else None


async def is_public(conn: aiosqlite.Connection, report_id: int) -> bool:
    """Whether a report is published (not marked not public)."""
    row = await fetch_one(conn, "SELECT public FROM reports WHERE id = ?", (report_id,))
    return bool(row and row[0])


async def set_public(conn: aiosqlite.Connection, report_id: int, public: bool) -> bool:
    """Mark a report public or not; False when it already was."""
    row = await fetch_one(
        conn,
        "UPDATE reports SET public = ? WHERE id = ? AND public != ? RETURNING 1",
        (int(public), report_id, int(public)),
    )
    return row is not None


async def set_source(conn: aiosqlite.Connection, report_id: int, source: str) -> None:
    """Name where a report came from (an API client)."""
    await conn.execute("UPDATE reports SET source = ? WHERE id = ?", (source, report_id))


async def filed_since(
    conn: aiosqlite.Connection, source: str, category: str, description: str,
    place: tuple[float | None, float | None], contact: Contact, since: datetime,
) -> str | None:  # fmt: skip
    """The reference of a report from ``source`` filed since a moment with the same category,
    description, coordinates and contact (the same request sent again), if any."""
    row = await fetch_one(
        conn,
        "SELECT r.ref FROM reports r LEFT JOIN report_contacts c ON c.report_id = r.id"
        " WHERE r.created_at >= ? AND r.source = ? AND r.category = ? AND r.description = ?"
        " AND r.latitude IS NOT DISTINCT FROM ? AND r.longitude IS NOT DISTINCT FROM ?"
        " AND c.first_name IS NOT DISTINCT FROM ? AND c.last_name IS NOT DISTINCT FROM ?"
        " AND c.email IS NOT DISTINCT FROM ? AND c.phone IS NOT DISTINCT FROM ?"
        " AND c.device_id IS NOT DISTINCT FROM ? AND c.account_id IS NOT DISTINCT FROM ?"
        " ORDER BY r.id DESC LIMIT 1",
        (iso(since), source, category, description, *place, contact.first_name,
         contact.last_name, contact.email, contact.phone, contact.device_id, contact.account_id),
    )  # fmt: skip
    return str(row[0]) if row else None


async def set_handed_to(conn: aiosqlite.Connection, report_id: int, body: str) -> None:
    """Name the outside body a report was handed over to (Open311's agency_responsible)."""
    await conn.execute("UPDATE reports SET handed_to = ? WHERE id = ?", (body, report_id))


@dataclass(frozen=True, slots=True)
class Contact:
    """What an API client sent about the person (kept for staff, never published)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    email_consent: bool = False  # the person agreed to be written to at ``email``

    @property
    def empty(self) -> bool:
        """Whether nothing was given."""
        return not any(
            (self.first_name, self.last_name, self.email, self.phone, self.device_id,
             self.account_id)
        )  # fmt: skip


async def save_contact(conn: aiosqlite.Connection, report_id: int, contact: Contact) -> None:
    """Keep the contact an API client gave with a report."""
    await conn.execute(
        "INSERT INTO report_contacts (report_id, first_name, last_name, email, phone, device_id,"
        " account_id, email_consent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (report_id, contact.first_name, contact.last_name, contact.email, contact.phone,
         contact.device_id, contact.account_id, int(contact.email_consent and bool(contact.email))),
    )  # fmt: skip


async def consented_email(conn: aiosqlite.Connection, report_id: int) -> str | None:
    """The e-mail address an API report's reporter agreed to be written to, if any."""
    row = await fetch_one(
        conn,
        "SELECT email FROM report_contacts WHERE report_id = ? AND email_consent = 1"
        " AND email IS NOT NULL",
        (report_id,),
    )
    return str(row[0]) if row else None


async def ref_of_token(conn: aiosqlite.Connection, token: str) -> str | None:
    """The reference of the public report a token was given for (tokens were given by POST
    requests until its answer carried the id alone)."""
    row = await fetch_one(
        conn,
        "SELECT r.ref FROM open311_tokens t JOIN reports r ON r.id = t.report_id"
        " WHERE t.token = ? AND r.public = 1",
        (token,),
    )
    return str(row[0]) if row else None


async def ended_times(conn: aiosqlite.Connection) -> dict[int, datetime]:
    """When each public report that is ended now (closed, rejected, handed off) last reached an
    end: a reopened report is not closed, whatever it was before."""
    ended = _marks(status.ENDED)
    rows = await fetch_all(
        conn,
        "SELECT e.report_id, MAX(e.at) FROM report_events e"  # noqa: S608 - only placeholders
        f" JOIN reports r ON r.id = e.report_id AND r.public = 1 AND r.status IN ({ended})"
        f" WHERE e.kind = 'status' AND e.new_status IN ({ended}) GROUP BY e.report_id",
        (*status.ENDED, *status.ENDED),
    )
    return {int(r[0]): parse(r[1]) for r in rows}


# Where a report is now, from its service, status, handed_to and category (handlers/opendata).
Holder = Callable[[str, str, str | None, str], str]


@dataclass(frozen=True, slots=True)
class Scorecard:
    """How one service (or an outside body a report was handed to) does with its public
    reports."""

    service: str  # the service's code, or the body's
    open_now: int
    median_ack_days: float | None
    median_resolve_days: float | None
    resolved_in_time: float | None  # the share of resolved reports resolved by their deadline
    per_month: tuple[tuple[str, int], ...]  # (YYYY-MM, reports received), oldest first


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def last_months(now: datetime, count: int) -> list[str]:
    """``YYYY-MM`` of the ``count`` months up to ``now``'s, oldest first."""
    year, month = now.year, now.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


async def scorecards(
    conn: aiosqlite.Connection, now: datetime, holder: Holder, months: int = 12
) -> list[Scorecard]:
    """Per service (of the public reports), each report counted where ``holder`` says it is now
    (a handed-off one under its body, as the API and the data sets name it): open now, medians,
    the SLA share, 12 months (read only from the columns that ``Changes.figures`` counts the
    changes of)."""
    # The days are computed by SQLite: reading 10,000 rows of times into Python costs more.
    # julianday() is SQLite's (PostgreSQL: EXTRACT(EPOCH FROM ...) / 86400 on timestamps; the
    # moments are text here, which SQL cannot subtract).
    rows = await fetch_all(
        conn,
        "SELECT service, status, julianday(acknowledged_at) - julianday(created_at),"
        " julianday(resolved_at) - julianday(created_at), resolved_at <= sla_due_at,"
        " substr(created_at, 1, 7), handed_to, category FROM reports WHERE public = 1",
    )
    grouped: dict[str, list[aiosqlite.Row]] = {}
    for row in rows:
        grouped.setdefault(holder(row[0], row[1], row[6], row[7]), []).append(row)
    wanted = last_months(now, months)
    return [_scorecard(s, items, wanted) for s, items in sorted(grouped.items())]


def _scorecard(service: str, rows: list[aiosqlite.Row], months: list[str]) -> Scorecard:
    counts = dict.fromkeys(months, 0)
    for r in rows:
        if r[5] in counts:  # the month in UTC: a month's edge may fall an hour or two apart
            counts[r[5]] += 1
    in_time = [bool(r[4]) for r in rows if r[3] is not None]
    return Scorecard(
        service=service,
        open_now=sum(1 for r in rows if r[1] in status.OPEN),
        median_ack_days=_median([float(r[2]) for r in rows if r[2] is not None]),
        median_resolve_days=_median([float(r[3]) for r in rows if r[3] is not None]),
        resolved_in_time=sum(in_time) / len(in_time) if in_time else None,
        per_month=tuple(counts.items()),
    )


MapPoint = tuple[str, float, float, str, str]  # ref, latitude, longitude, status, category


async def map_points(
    conn: aiosqlite.Connection, start: datetime, end: datetime, limit: int
) -> list[MapPoint]:
    """The located public reports filed in a period (newest first, at most ``limit``), then
    those still open that were filed before it (as many again): only what the map draws (read
    only from the columns that ``Changes.figures`` counts the changes of)."""
    point = "SELECT r.ref, r.latitude, r.longitude, r.status, r.category FROM reports r"
    located = " WHERE r.public = 1 AND r.latitude IS NOT NULL AND r.longitude IS NOT NULL"
    rows = await fetch_all(
        conn,
        f"SELECT * FROM ({point}{located} AND r.created_at >= ? AND r.created_at <= ?"  # noqa: S608
        " ORDER BY r.created_at DESC LIMIT ?)"
        f" UNION ALL SELECT * FROM ({point}{located} AND r.created_at < ?"
        f" AND r.status IN ({_marks(status.OPEN)}) ORDER BY r.created_at DESC LIMIT ?)",
        (iso(start), iso(end), limit, iso(start), *status.OPEN, limit),
    )
    return [(str(r[0]), float(r[1]), float(r[2]), str(r[3]), str(r[4])) for r in rows]


async def revision_of(conn: aiosqlite.Connection, consultation_id: int) -> int:
    """How many times a consultation has changed (its calendar file's SEQUENCE)."""
    row = await fetch_one(
        conn, "SELECT revision FROM consultations WHERE id = ?", (consultation_id,)
    )
    return int(row[0]) if row else 0

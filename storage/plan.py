"""The action plan's measures, their milestones, their history and their followers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.clock import iso, parse
from storage.sql import fetch_all, fetch_one

STATUSES = ("not_started", "in_progress", "done", "late", "dropped")
CLOSED = ("done", "dropped")  # a measure in these is not late whatever its date


@dataclass(frozen=True, slots=True)
class NewMilestone:
    """A milestone as the municipality file or an import gives it."""

    due_on: date | None
    text: str
    done: bool = False


@dataclass(frozen=True, slots=True)
class NewMeasure:
    """A measure as the municipality file or an import gives it (parents come before children).

    ``plan`` is the id of its plan in the municipality file; the key is unique within the plan.
    """

    key: str
    parent_key: str | None
    title: str
    description: str = ""
    responsible: str = ""
    service: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    status: str = "not_started"
    progress: int = 0
    weight: float | None = None
    milestones: tuple[NewMilestone, ...] = ()
    plan: str = ""


@dataclass(frozen=True, slots=True)
class Measure:
    """A stored measure: a commitment (no parent) or one of its activities."""

    id: int
    key: str
    parent_id: int | None
    title: str
    description: str
    responsible: str
    service: str | None
    starts_on: date | None
    ends_on: date | None
    status: str
    progress: int
    weight: float | None
    plan: str = ""  # the plan's id in the municipality file


@dataclass(frozen=True, slots=True)
class Milestone:
    """A dated step of a measure; ``done_on`` is when it was reached."""

    measure_id: int
    position: int
    due_on: date | None
    text: str
    done_on: date | None


@dataclass(frozen=True, slots=True)
class Change:
    """A status or progress that an import changed (its followers are told)."""

    measure_id: int
    kind: str  # "progress" or "status"
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Event:
    """One change of a measure: who (None: the municipality file, an import, the schedule)."""

    at: datetime
    actor: str | None
    kind: str
    old: str | None
    new: str | None
    text: str | None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _day_text(day: date | None) -> str | None:
    return day.isoformat() if day else None


_MEASURE = (
    "SELECT id, key, parent_id, title, description, responsible, service, starts_on, ends_on,"
    " status, progress, weight, plan FROM plan_measures"
)


def _measure(r: aiosqlite.Row) -> Measure:
    return Measure(
        int(r[0]), str(r[1]), r[2], str(r[3]), str(r[4]), str(r[5]), r[6], _day(r[7]),
        _day(r[8]), str(r[9]), int(r[10]), float(r[11]) if r[11] is not None else None,
        str(r[12]),
    )  # fmt: skip


async def save_plan(
    conn: aiosqlite.Connection,
    measures: list[NewMeasure],
    now: datetime,
    *,
    keep_progress: bool,
    note: str | None = None,
) -> list[Change]:
    """Store measures by plan and key (in the caller's transaction); return the changes made.

    Texts, dates, weights and the structure always follow what is given. With ``keep_progress``
    (the municipality file, read at every start) an existing measure keeps the status, progress
    and reached milestones that staff set in chat; otherwise (an import) they are set too, and
    each change is an event with ``note`` (the file's name).
    """
    known = {
        (str(r[0]), str(r[1])): (int(r[2]), str(r[3]), int(r[4]))
        for r in await fetch_all(conn, "SELECT plan, key, id, status, progress FROM plan_measures")
    }
    ids: dict[tuple[str, str], int] = {}
    changes: list[Change] = []
    for position, m in enumerate(measures):
        before = known.get((m.plan, m.key))
        parent = (m.plan, m.parent_key) if m.parent_key else None
        parent_id = ids.get(parent) if parent else None
        if parent and parent_id is None:
            parent_id = known[parent][0] if parent in known else None
        update = not keep_progress or before is None
        row = await fetch_one(
            conn,
            "INSERT INTO plan_measures (plan, key, parent_id, position, title, description,"
            " responsible, service, starts_on, ends_on, status, progress, weight, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (plan, key) DO UPDATE SET parent_id = excluded.parent_id,"
            " position = excluded.position, title = excluded.title,"
            " description = excluded.description, responsible = excluded.responsible,"
            " service = excluded.service, starts_on = excluded.starts_on,"
            " ends_on = excluded.ends_on, weight = excluded.weight,"
            " status = CASE WHEN ? THEN excluded.status ELSE status END,"
            " progress = CASE WHEN ? THEN excluded.progress ELSE progress END,"
            " updated_at = excluded.updated_at RETURNING id",
            (m.plan, m.key, parent_id, position, m.title, m.description, m.responsible, m.service,
             _day_text(m.starts_on), _day_text(m.ends_on), m.status, m.progress, m.weight,
             iso(now), update, update),
        )  # fmt: skip
        if row is None:
            raise RuntimeError("INSERT ... RETURNING gave no row")
        measure_id = ids[m.plan, m.key] = int(row[0])
        await _save_milestones(conn, measure_id, m.milestones, now, update=update)
        if before is not None and update:
            _id, old_status, old_progress = before
            if old_progress != m.progress:
                await add_event(conn, measure_id, None, "progress", old_progress, m.progress,
                                note, now)  # fmt: skip
                changes.append(Change(measure_id, "progress", str(old_progress), str(m.progress)))
            if old_status != m.status:
                await add_event(conn, measure_id, None, "status", old_status, m.status, note, now)
                changes.append(Change(measure_id, "status", old_status, m.status))
    return changes


async def _save_milestones(
    conn: aiosqlite.Connection,
    measure_id: int,
    milestones: tuple[NewMilestone, ...],
    now: datetime,
    *,
    update: bool,
) -> None:
    today = now.date().isoformat()
    await conn.executemany(
        "INSERT INTO plan_milestones (measure_id, position, due_on, text, done_on)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (measure_id, position) DO UPDATE SET"
        " due_on = excluded.due_on, text = excluded.text,"
        # An import sets whether a milestone is reached; the date it was reached is kept.
        " done_on = CASE WHEN NOT ? THEN done_on WHEN excluded.done_on IS NULL THEN NULL"
        " ELSE COALESCE(done_on, excluded.done_on) END",
        [
            (measure_id, i, _day_text(x.due_on), x.text, today if x.done else None, update)
            for i, x in enumerate(milestones, 1)
        ],
    )
    if update:
        await conn.execute(
            "DELETE FROM plan_milestones WHERE measure_id = ? AND position > ?",
            (measure_id, len(milestones)),
        )


async def all_measures(conn: aiosqlite.Connection, plan: str | None = None) -> list[Measure]:
    """Every measure of ``plan`` (of every plan when None), in the plan's order."""
    if plan is None:
        rows = await fetch_all(conn, _MEASURE + " ORDER BY plan, position, id")
    else:
        rows = await fetch_all(conn, _MEASURE + " WHERE plan = ? ORDER BY position, id", (plan,))
    return [_measure(r) for r in rows]


async def claim_unassigned(conn: aiosqlite.Connection, default_plan: str) -> int:
    """Give the measures stored before plans had ids (plan '') to the default plan."""
    cursor = await conn.execute(
        "UPDATE plan_measures SET plan = ? WHERE plan = ''", (default_plan,)
    )
    return cursor.rowcount


async def get(conn: aiosqlite.Connection, measure_id: int) -> Measure | None:
    """One measure by its id."""
    row = await fetch_one(conn, _MEASURE + " WHERE id = ?", (measure_id,))
    return _measure(row) if row else None


async def by_key(conn: aiosqlite.Connection, key: str, plan: str | None = None) -> list[Measure]:
    """The measures with this key (``1.2``): in ``plan``, or in every plan when None."""
    if plan is None:
        rows = await fetch_all(conn, _MEASURE + " WHERE key = ? ORDER BY plan", (key,))
    else:
        rows = await fetch_all(conn, _MEASURE + " WHERE plan = ? AND key = ?", (plan, key))
    return [_measure(r) for r in rows]


async def milestones(conn: aiosqlite.Connection, measure_id: int) -> list[Milestone]:
    """A measure's milestones in their order."""
    rows = await fetch_all(
        conn,
        "SELECT measure_id, position, due_on, text, done_on FROM plan_milestones"
        " WHERE measure_id = ? ORDER BY position",
        (measure_id,),
    )
    return [Milestone(int(r[0]), int(r[1]), _day(r[2]), str(r[3]), _day(r[4])) for r in rows]


async def history(conn: aiosqlite.Connection, measure_id: int, limit: int = 20) -> list[Event]:
    """A measure's newest changes, oldest first, each with who made it."""
    rows = await fetch_all(
        conn,
        "SELECT e.at, u.first_name, e.kind, e.old, e.new, e.text FROM plan_events e"
        " LEFT JOIN users u ON u.id = e.actor_id WHERE e.measure_id = ?"
        " ORDER BY e.id DESC LIMIT ?",
        (measure_id, limit),
    )
    return [Event(parse(r[0]), r[1], str(r[2]), r[3], r[4], r[5]) for r in reversed(rows)]


async def add_event(
    conn: aiosqlite.Connection,
    measure_id: int,
    actor_id: int | None,
    kind: str,
    old: object,
    new: object,
    text: str | None,
    now: datetime,
) -> None:
    """Record one change of a measure."""
    await conn.execute(
        "INSERT INTO plan_events (measure_id, at, actor_id, kind, old, new, text)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (measure_id, iso(now), actor_id, kind, _text(old), _text(new), text),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


async def change(
    conn: aiosqlite.Connection,
    m: Measure,
    *,
    status: str,
    progress: int,
    now: datetime,
    late_for: date | None = None,
) -> bool:
    """Set a measure's status and progress if nobody changed them since ``m`` was read."""
    cursor = await conn.execute(
        "UPDATE plan_measures SET status = ?, progress = ?, updated_at = ?,"
        " late_for = COALESCE(?, late_for) WHERE id = ? AND status = ? AND progress = ?",
        (status, progress, iso(now), _day_text(late_for), m.id, m.status, m.progress),
    )
    return cursor.rowcount == 1


async def reach_milestone(
    conn: aiosqlite.Connection, measure_id: int, position: int, day: date
) -> bool:
    """Mark a milestone reached on ``day``; False when it was already (or does not exist)."""
    cursor = await conn.execute(
        "UPDATE plan_milestones SET done_on = ?"
        " WHERE measure_id = ? AND position = ? AND done_on IS NULL",
        (day.isoformat(), measure_id, position),
    )
    return cursor.rowcount == 1


async def add_milestone(
    conn: aiosqlite.Connection, measure_id: int, due_on: date | None, text: str
) -> int:
    """Add a milestone after the others; return its number."""
    row = await fetch_one(
        conn,
        "INSERT INTO plan_milestones (measure_id, position, due_on, text)"
        " SELECT ?, COALESCE(MAX(position), 0) + 1, ?, ? FROM plan_milestones"
        " WHERE measure_id = ? RETURNING position",
        (measure_id, _day_text(due_on), text, measure_id),
    )
    if row is None:
        raise RuntimeError("INSERT ... RETURNING gave no row")
    return int(row[0])


async def overdue(conn: aiosqlite.Connection, today: date) -> list[Measure]:
    """Measures past their end date, not done, whose passing was not noticed yet."""
    rows = await fetch_all(
        conn,
        _MEASURE + " WHERE ends_on < ? AND status NOT IN (?, ?, 'late')"
        " AND (late_for IS NULL OR late_for <> ends_on) ORDER BY plan, position",
        (today.isoformat(), *CLOSED),
    )
    return [_measure(r) for r in rows]


# Followers.


async def is_following(conn: aiosqlite.Connection, measure_id: int, user_id: int) -> bool:
    """Whether the user follows this measure."""
    row = await fetch_one(
        conn,
        "SELECT 1 FROM plan_followers WHERE measure_id = ? AND user_id = ?",
        (measure_id, user_id),
    )
    return row is not None


async def toggle_follow(
    conn: aiosqlite.Connection, measure_id: int, user_id: int, now: datetime
) -> bool:
    """Follow a measure, or stop following it; return whether the user follows it now."""
    cursor = await conn.execute(
        "DELETE FROM plan_followers WHERE measure_id = ? AND user_id = ?", (measure_id, user_id)
    )
    if cursor.rowcount:
        return False
    await conn.execute(
        "INSERT INTO plan_followers (measure_id, user_id, at) VALUES (?, ?, ?)",
        (measure_id, user_id, iso(now)),
    )
    return True


async def followers(
    conn: aiosqlite.Connection, measure_ids: list[int]
) -> list[tuple[int, str, str, str | None]]:
    """(user id, channel, chat, language) of the reachable followers of any of these measures."""
    if not measure_ids:
        return []
    marks = ", ".join("?" * len(measure_ids))
    rows = await fetch_all(
        conn,
        "SELECT DISTINCT u.id, u.channel, u.chat_id, u.language FROM plan_followers f"  # noqa: S608 - only placeholders
        f" JOIN users u ON u.id = f.user_id WHERE f.measure_id IN ({marks})"
        " AND u.unreachable = 0 ORDER BY u.id",
        measure_ids,
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


# Residents' comments and questions, and the staff's answers.


@dataclass(frozen=True, slots=True)
class Comment:
    """A resident's comment or question on a measure."""

    id: int
    measure_id: int
    user_id: int
    text: str
    answer: str | None


async def add_comment(
    conn: aiosqlite.Connection, measure_id: int, user_id: int, text: str, now: datetime
) -> int:
    """Store a comment; return its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO plan_comments (measure_id, user_id, text, at) VALUES (?, ?, ?, ?)"
        " RETURNING id",
        (measure_id, user_id, text, iso(now)),
    )
    if row is None:
        raise RuntimeError("INSERT ... RETURNING gave no row")
    return int(row[0])


async def get_comment(conn: aiosqlite.Connection, comment_id: int) -> Comment | None:
    """One comment by its id."""
    row = await fetch_one(
        conn,
        "SELECT id, measure_id, user_id, text, answer FROM plan_comments WHERE id = ?",
        (comment_id,),
    )
    return Comment(int(row[0]), int(row[1]), int(row[2]), str(row[3]), row[4]) if row else None


async def answer_comment(
    conn: aiosqlite.Connection, comment_id: int, text: str, staff_id: int, now: datetime
) -> None:
    """Store the staff's answer (a later answer replaces an earlier one)."""
    await conn.execute(
        "UPDATE plan_comments SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ?",
        (text, staff_id, iso(now), comment_id),
    )


async def responsible_staff(
    conn: aiosqlite.Connection, service: str | None
) -> list[tuple[int, str, str, str | None]]:
    """(user id, channel, chat, language) of the admins and the operators of ``service``."""
    rows = await fetch_all(
        conn,
        "SELECT id, channel, chat_id, language FROM users WHERE unreachable = 0"
        " AND (role = 'admin' OR (role = 'operator' AND services LIKE ?)) ORDER BY id",
        (f'%"{service}"%' if service else "",),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]

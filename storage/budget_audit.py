"""The budget's audit: one entry per staff action (an import, a consultation's period, an answer
to a proposal, a participatory budgeting round), written in the action's own transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import aiosqlite

from storage.clock import iso, parse
from storage.sql import fetch_all


class Action(StrEnum):
    """What staff did (the values are those of migration 0032's check)."""

    IMPORT_REFUSED = "import_refused"
    IMPORT_PREVIEWED = "import_previewed"
    IMPORT_PUBLISHED = "import_published"
    IMPORT_DROPPED = "import_dropped"
    CONSULTATION_OPENED = "consultation_opened"
    CONSULTATION_CHANGED = "consultation_changed"
    CONSULTATION_CLOSED = "consultation_closed"
    ANSWER_GIVEN = "answer_given"
    ANSWER_CHANGED = "answer_changed"
    ROUND_PREPARED = "round_prepared"
    PROJECT_ADDED = "project_added"
    ROUND_OPENED = "round_opened"
    PAPER_VOTES = "paper_votes"
    PAPER_CORRECTED = "paper_corrected"
    ROUND_CLOSED = "round_closed"


class Subject(StrEnum):
    """What an action concerns."""

    FILE = "file"  # a file refused whole: nothing stored, so no id
    VERSION = "version"
    CONSULTATION = "consultation"
    PROPOSAL = "proposal"
    ROUND = "round"
    PROJECT = "project"


@dataclass(frozen=True, slots=True)
class Entry:
    """One audited action, with the acting staff member's name (None: the bot itself)."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str | None
    action: Action
    subject: Subject
    subject_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)
    text: str | None = None


async def record(
    conn: aiosqlite.Connection,
    actor_id: int | None,
    action: Action,
    subject: Subject,
    subject_id: int | None,
    now: datetime,
    detail: dict[str, Any] | None = None,
    text: str | None = None,
) -> None:
    """Write one entry in the caller's transaction (the action's own)."""
    await conn.execute(
        "INSERT INTO budget_events (at, actor_id, action, object, object_id, detail, text)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (iso(now), actor_id, action, subject, subject_id,
         json.dumps(detail or {}, ensure_ascii=False, sort_keys=True), text),
    )  # fmt: skip


_ENTRY = (
    "SELECT e.id, e.at, e.actor_id, u.first_name, e.action, e.object, e.object_id, e.detail,"
    " e.text FROM budget_events e LEFT JOIN users u ON u.id = e.actor_id"
)


def _entry(r: aiosqlite.Row) -> Entry:
    return Entry(
        int(r[0]), parse(r[1]), r[2], r[3] or None, Action(r[4]), Subject(r[5]), r[6],
        json.loads(r[7]), r[8],
    )  # fmt: skip


async def latest(
    conn: aiosqlite.Connection, limit: int, before_id: int | None = None
) -> list[Entry]:
    """The newest entries (older than entry ``before_id`` when given), newest first."""
    rows = await fetch_all(
        conn,
        _ENTRY + " WHERE e.id < ? ORDER BY e.id DESC LIMIT ?",
        (before_id if before_id is not None else 2**62, limit),
    )
    return [_entry(r) for r in rows]


async def of_subjects(
    conn: aiosqlite.Connection, subject: Subject, ids: list[int]
) -> dict[int, list[Entry]]:
    """Each object's entries, oldest first (one query for a whole list of cards)."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = await fetch_all(
        conn,
        _ENTRY + f" WHERE e.object = ? AND e.object_id IN ({marks}) ORDER BY e.id",
        [subject, *ids],
    )
    found: dict[int, list[Entry]] = {i: [] for i in ids}
    for r in rows:
        entry = _entry(r)
        assert entry.subject_id is not None  # noqa: S101 - selected by its id
        found[entry.subject_id].append(entry)
    return found


async def detach(
    conn: aiosqlite.Connection, subject: Subject, ids: list[int], marker: str, *,
    drop_text: bool = False,
) -> None:  # fmt: skip
    """Detach the entries of objects gone (an erased proposal, a dropped version) from their ids,
    which SQLite gives the next row again (no AUTOINCREMENT): ``object_id`` goes, ``detail`` keeps
    the number and the ``marker`` saying why."""
    for object_id in ids:
        rows = await fetch_all(
            conn,
            "SELECT id, detail FROM budget_events WHERE object = ? AND object_id = ?",
            (subject, object_id),
        )
        for entry_id, detail in rows:
            marked = json.loads(detail) | {marker: True, "id": object_id}
            await conn.execute(
                "UPDATE budget_events SET object_id = NULL, detail = ?,"
                " text = CASE WHEN ? THEN NULL ELSE text END WHERE id = ?",
                (json.dumps(marked, ensure_ascii=False, sort_keys=True), drop_text, entry_id),
            )


async def detach_proposals(conn: aiosqlite.Connection, ids: list[int], marker: str) -> None:
    """Proposals deleted (by the retention): their entries stay without the reasons given."""
    await detach(conn, Subject.PROPOSAL, ids, marker, drop_text=True)


async def detach_proposals_of(conn: aiosqlite.Connection, user_id: int) -> None:
    """A resident's erasure: the reasons given to their proposals go with the proposals; the
    entries stay (who answered, when, the verdict), marked as an erased one's."""
    rows = await fetch_all(
        conn,
        "SELECT id FROM consultation_comments WHERE user_id = ? AND program IS NOT NULL",
        (user_id,),
    )
    ids = [int(r[0]) for r in rows]
    await detach(conn, Subject.PROPOSAL, ids, "erased", drop_text=True)

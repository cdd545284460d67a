"""Staff added by admins (the municipality file's staff are known from the file)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import users
from storage.clock import iso
from storage.sql import Statement, fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class StaffEntry:
    """A staff member added with /staff add."""

    channel: str
    external_id: str
    role: str
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewUser:
    """Someone writing for the first time, as their messenger names them."""

    channel: str
    external_id: str
    chat_id: str
    first_name: str
    role: str  # the municipality file's, or ``resident`` (then an admin's /staff add counts)
    services: tuple[str, ...] = ()


async def add(conn: aiosqlite.Connection, entry: StaffEntry, added_by: int, now: datetime) -> None:
    """Add or change a staff member, and their user if they have written to the bot already."""
    await conn.execute(
        "INSERT INTO staff_members (channel, external_id, role, services, added_by, at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, external_id) DO UPDATE SET"
        " role = excluded.role, services = excluded.services, added_by = excluded.added_by,"
        " at = excluded.at",
        (entry.channel, entry.external_id, entry.role, json.dumps(list(entry.services)),
         added_by, iso(now)),
    )  # fmt: skip
    await users.set_role(conn, entry.channel, entry.external_id, entry.role, entry.services)


async def remove(
    conn: aiosqlite.Connection,
    channel: str,
    external_id: str,
    staff_states: list[str],
    home: str,
) -> bool:
    """Take the staff role of a member added with /staff add; False when there was none.

    Whatever they were doing in a staff-only flow (``staff_states``) is dropped with the role.
    """
    row = await fetch_one(
        conn,
        "DELETE FROM staff_members WHERE channel = ? AND external_id = ? RETURNING 1",
        (channel, external_id),
    )
    if row is None:
        return False
    await users.set_role(conn, channel, external_id, "resident", ())
    await users.clear_states_of(conn, channel, external_id, staff_states, home)
    return True


def create_statement(new: NewUser, now: datetime, *, claimed: bool) -> Statement:
    """The statement that creates ``new`` unless they are known, to run ahead of their event.

    It stores the role an admin added them with (``staff_members``) unless the municipality
    file gives them one. With ``claimed`` it creates them only if the statement just before it
    (the event's dedupe claim) stored a row: an update delivered again, whose user has erased
    their data since, must not store them anew. (``changes()`` is SQLite's; on PostgreSQL the
    claim would be a data-modifying WITH of this statement.)
    """
    role, services = (None, None) if new.role == "resident" else (new.role, new.services)
    return (
        "INSERT INTO users (channel, external_id, chat_id, first_name, role, services, created_at)"
        " SELECT :channel, :external_id, :chat_id, :first_name,"
        "  COALESCE(:role, s.role, 'resident'), COALESCE(:services, s.services, '[]'), :now"
        " FROM (SELECT 1) AS one LEFT JOIN staff_members s"
        "  ON s.channel = :channel AND s.external_id = :external_id"
        " WHERE NOT EXISTS (SELECT 1 FROM users u"
        "  WHERE u.channel = :channel AND u.external_id = :external_id)"
        " AND (NOT :claimed OR changes() = 1)",
        {
            "channel": new.channel, "external_id": new.external_id, "chat_id": new.chat_id,
            "first_name": new.first_name, "role": role,
            "services": None if services is None else json.dumps(list(services)),
            "now": iso(now), "claimed": claimed,
        },
    )  # fmt: skip


async def create_user(
    conn: aiosqlite.Connection,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    first_name: str,
    now: datetime,
) -> users.User:
    """Create a resident, or the staff member an admin added, in one statement (one hop)."""
    row = await fetch_one(
        conn,
        "INSERT INTO users (channel, external_id, chat_id, first_name, role, services, created_at)"
        " SELECT ?, ?, ?, ?, COALESCE(s.role, 'resident'), COALESCE(s.services, '[]'), ?"
        " FROM (SELECT 1) AS one LEFT JOIN staff_members s"
        "  ON s.channel = ? AND s.external_id = ?"
        " RETURNING id, role, services",
        (channel, external_id, chat_id, first_name, iso(now), channel, external_id),
    )
    assert row is not None  # noqa: S101 - RETURNING always yields the new row
    return users.User(
        row[0], channel, external_id, chat_id, first_name, None, row[1], unreachable=False,
        services=tuple(json.loads(row[2])),
    )  # fmt: skip


async def list_all(conn: aiosqlite.Connection) -> list[StaffEntry]:
    """Every staff member added by an admin."""
    rows = await fetch_all(
        conn, "SELECT channel, external_id, role, services FROM staff_members ORDER BY at"
    )
    return [StaffEntry(r[0], r[1], r[2], tuple(json.loads(r[3]))) for r in rows]


@dataclass(frozen=True, slots=True)
class StaffChat:
    """A staff member of one messenger as known now: their private chat ("" before they
    write), role and language."""

    external_id: str
    chat_id: str
    role: str
    language: str | None


async def chats_on(conn: aiosqlite.Connection, channel: str) -> list[StaffChat]:
    """The staff of ``channel`` who have written to the bot, and those added with /staff add
    who have not yet."""
    rows = await fetch_all(
        conn,
        "SELECT external_id, chat_id, role, language FROM users"
        " WHERE channel = ? AND role != 'resident'"
        " UNION ALL SELECT s.external_id, '', s.role, NULL FROM staff_members s"
        " WHERE s.channel = ? AND NOT EXISTS (SELECT 1 FROM users u"
        "  WHERE u.channel = s.channel AND u.external_id = s.external_id)",
        (channel, channel),
    )
    return [StaffChat(str(r[0]), str(r[1] or ""), str(r[2]), r[3]) for r in rows]

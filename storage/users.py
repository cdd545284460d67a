"""Users and their conversation state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage.clock import iso
from storage.sql import Statement, fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class User:
    """A person on one messenger."""

    id: int
    channel: str
    external_id: str
    chat_id: str
    first_name: str
    language: str | None
    role: str
    unreachable: bool
    services: tuple[str, ...] = ()

    @property
    def is_staff(self) -> bool:
        """Whether the user is an admin or an operator."""
        return self.role in ("admin", "operator")

    def may_act_for(self, service: str) -> bool:
        """Whether the user may act on a report of ``service``."""
        return self.role == "admin" or (self.role == "operator" and service in self.services)


@dataclass(frozen=True, slots=True)
class Conversation:
    """A user with where they are in the conversation."""

    user: User
    state: str
    draft: dict[str, Any]


_SELECT = """
SELECT u.id, u.channel, u.external_id, u.chat_id, u.first_name, u.language, u.role,
       u.unreachable, c.state, c.draft, u.services
FROM users u LEFT JOIN conversations c ON c.user_id = u.id
"""


# The writer's temporary triggers: every change of a user's row or conversation calls
# ``touched('user', id)`` (storage/db.py: rows a work of a batch read ahead must not change
# before it).
WATCH_TRIGGERS = "\n".join(
    f"CREATE TEMP TRIGGER IF NOT EXISTS watch_{table}_{action.lower()} AFTER {action}"
    f" ON main.{table} BEGIN SELECT touched('user', {row}.{column}); END;"
    for table, column in (("users", "id"), ("conversations", "user_id"))
    for action, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD"))
)


def watch_key(user_id: int) -> str:
    """The key under which the triggers tell a change of this user's rows."""
    return f"user:{user_id}"


def _conversation(row: aiosqlite.Row) -> Conversation:
    user = User(
        id=row[0],
        channel=row[1],
        external_id=row[2],
        chat_id=row[3],
        first_name=row[4],
        language=row[5],
        role=row[6],
        unreachable=bool(row[7]),
        services=_services(row[10]),
    )
    return Conversation(user, row[8] or "", json.loads(row[9]) if row[9] else {})


def _services(stored: str | None) -> tuple[str, ...]:
    """A user's services (a resident has none: no JSON to read for every event)."""
    return () if stored in (None, "[]") else tuple(json.loads(stored or "[]"))


def load_statement(channel: str, external_id: str) -> Statement:
    """The query of ``load_conversation``, to run together with others."""
    return (_SELECT + " WHERE u.channel = ? AND u.external_id = ?", (channel, external_id))


def conversation_of(rows: list[aiosqlite.Row]) -> Conversation | None:
    """The conversation that ``load_statement`` found, or None for someone new."""
    return _conversation(rows[0]) if rows else None


# Made once: ``json.dumps`` with an option builds a new encoder at every call (every event
# writes its draft).
_encode = json.JSONEncoder(ensure_ascii=False).encode


def state_statement(user_id: int, state: str, draft: dict[str, Any], now: datetime) -> Statement:
    """The statement of ``save_state``, to run together with others."""
    return (
        "INSERT INTO conversations (user_id, state, draft, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, draft = excluded.draft,"
        " updated_at = excluded.updated_at",
        (user_id, state, _encode(draft) if draft else "{}", iso(now)),
    )


def language_statement(user_id: int, language: str | None) -> Statement:
    """The statement of ``save_language``."""
    return ("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


def reachable_statement(user_id: int) -> Statement:
    """The statement of ``mark_reachable``."""
    return ("UPDATE users SET unreachable = 0 WHERE id = ?", (user_id,))


async def load_conversation(
    conn: aiosqlite.Connection, channel: str, external_id: str
) -> Conversation | None:
    """Load a user and their conversation in one query, or None for someone new."""
    row = await fetch_one(
        conn, _SELECT + " WHERE u.channel = ? AND u.external_id = ?", (channel, external_id)
    )
    return _conversation(row) if row else None


async def load_conversation_by_id(conn: aiosqlite.Connection, user_id: int) -> Conversation | None:
    """Load a user and their conversation by the user's id."""
    row = await fetch_one(conn, _SELECT + " WHERE u.id = ?", (user_id,))
    return _conversation(row) if row else None


async def create_user(
    conn: aiosqlite.Connection,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    first_name: str,
    role: str,
    now: datetime,
    services: tuple[str, ...] = (),
) -> User:
    """Create a user (inside the caller's transaction)."""
    row = await fetch_one(
        conn,
        "INSERT INTO users (channel, external_id, chat_id, first_name, role, services, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (channel, external_id, chat_id, first_name, role, json.dumps(list(services)), iso(now)),
    )
    assert row is not None  # noqa: S101 - RETURNING always yields the new row
    return User(
        row[0], channel, external_id, chat_id, first_name, None, role, unreachable=False,
        services=services,
    )  # fmt: skip


async def save_language(conn: aiosqlite.Connection, user_id: int, language: str | None) -> None:
    """Store the user's language and script."""
    await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


async def mark_reachable(conn: aiosqlite.Connection, user_id: int) -> None:
    """A user who writes again has unblocked the bot."""
    await conn.execute("UPDATE users SET unreachable = 0 WHERE id = ?", (user_id,))


async def save_state(
    conn: aiosqlite.Connection, user_id: int, state: str, draft: dict[str, Any], now: datetime
) -> None:
    """Store where the user is in the conversation."""
    await conn.execute(
        "INSERT INTO conversations (user_id, state, draft, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, draft = excluded.draft,"
        " updated_at = excluded.updated_at",
        (user_id, state, _encode(draft) if draft else "{}", iso(now)),
    )


async def mark_unreachable(conn: aiosqlite.Connection, channel: str, chat_id: str) -> None:
    """Stop sending to a user who blocked the bot; their data stays."""
    await conn.execute(
        "UPDATE users SET unreachable = 1 WHERE channel = ? AND chat_id = ?", (channel, chat_id)
    )


async def set_role(
    conn: aiosqlite.Connection, channel: str, external_id: str, role: str, services: tuple[str, ...]
) -> None:
    """Give a known user a role (``resident`` takes the staff role away)."""
    await conn.execute(
        "UPDATE users SET role = ?, services = ? WHERE channel = ? AND external_id = ?",
        (role, json.dumps(list(services)), channel, external_id),
    )


async def admins(conn: aiosqlite.Connection) -> list[User]:
    """Every admin who has written to the bot (only they can be written to)."""
    rows = await fetch_all(conn, _SELECT + " WHERE u.role = 'admin' AND u.unreachable = 0")
    return [_conversation(r).user for r in rows]


async def demote_staff_except(
    conn: aiosqlite.Connection, keep: set[tuple[str, str]], staff_states: list[str], home: str
) -> list[tuple[str, str]]:
    """Make residents of staff who are neither in ``keep`` nor added with /staff add; return
    their (channel, private chat).

    Whatever they were doing in a staff-only flow (``staff_states``) is dropped.
    """
    rows = await fetch_all(
        conn,
        "SELECT channel, external_id, chat_id FROM users u WHERE role != 'resident' AND NOT EXISTS"
        " (SELECT 1 FROM staff_members s WHERE s.channel = u.channel"
        " AND s.external_id = u.external_id)",
    )
    gone = [(str(r[0]), str(r[1]), str(r[2])) for r in rows if (str(r[0]), str(r[1])) not in keep]
    for channel, external_id, _chat in gone:
        await set_role(conn, channel, external_id, "resident", ())
        await clear_states_of(conn, channel, external_id, staff_states, home)
    return [(channel, chat) for channel, _id, chat in gone]


async def waiting_since(
    conn: aiosqlite.Connection, states: list[str], before: datetime
) -> list[Conversation]:
    """Conversations in one of ``states`` that have not moved since ``before``."""
    if not states:
        return []
    marks = ", ".join("?" for _ in states)
    rows = await fetch_all(
        conn,
        _SELECT + f" WHERE c.state IN ({marks}) AND c.updated_at < ?",
        (*states, iso(before)),
    )
    return [_conversation(r) for r in rows]


async def waiting_behind_since(
    conn: aiosqlite.Connection, states: list[str], resume_key: str, before: datetime
) -> list[Conversation]:
    """Conversations interrupted in one of ``states`` (kept in the draft under ``resume_key``,
    at any depth, to be resumed) that have not moved since ``before``."""
    if not states:
        return []
    marks = ", ".join("?" for _ in states)
    rows = await fetch_all(
        conn,
        # json_tree writes the parent's key in quotes when it needs them ($."_resume").
        _SELECT + " WHERE c.updated_at < ? AND EXISTS (SELECT 1 FROM json_tree(c.draft) t"  # noqa: S608
        f" WHERE t.key = 'state' AND (t.path LIKE ? OR t.path LIKE ?) AND t.value IN ({marks}))",
        (iso(before), f"%.{resume_key}", f'%."{resume_key}"', *states),
    )
    return [_conversation(r) for r in rows]


async def reset_conversation(conn: aiosqlite.Connection, user_id: int, home: str) -> None:
    """Send a user to ``home``, with everything their draft held dropped."""
    await conn.execute(
        "UPDATE conversations SET state = ?, draft = '{}' WHERE user_id = ?", (home, user_id)
    )


async def clear_states_of(
    conn: aiosqlite.Connection, channel: str, external_id: str, states: list[str], home: str
) -> None:
    """Send a user in one of ``states`` (a staff-only flow they lost) to ``home``, draft dropped."""
    if not states:
        return
    marks = ", ".join("?" for _ in states)
    await conn.execute(
        "UPDATE conversations SET state = ?, draft = '{}' WHERE user_id ="  # noqa: S608
        " (SELECT id FROM users WHERE channel = ? AND external_id = ?)"
        f" AND state IN ({marks})",
        (home, channel, external_id, *states),
    )

"""Private questions to the Centre for Social Work, and anonymous feedback on rights used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.sql import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Question:
    """A resident's private question to the Centre."""

    id: int
    user_id: int
    text: str


async def add_question(conn: aiosqlite.Connection, user_id: int, text: str, now: datetime) -> int:
    """Store a question; return its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO social_questions (user_id, text, at) VALUES (?, ?, ?) RETURNING id",
        (user_id, text, iso(now)),
    )
    if row is None:
        raise RuntimeError("INSERT ... RETURNING gave no row")
    return int(row[0])


async def get_question(conn: aiosqlite.Connection, question_id: int) -> Question | None:
    """One question by its id."""
    row = await fetch_one(
        conn, "SELECT id, user_id, text FROM social_questions WHERE id = ?", (question_id,)
    )
    return Question(int(row[0]), int(row[1]), str(row[2])) if row else None


async def answer_question(
    conn: aiosqlite.Connection, question_id: int, text: str, staff_id: int, now: datetime
) -> None:
    """Store the Centre's answer."""
    await conn.execute(
        "UPDATE social_questions SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ?",
        (text, staff_id, iso(now), question_id),
    )


async def users_by_identity(
    conn: aiosqlite.Connection, identities: list[tuple[str, str]]
) -> list[tuple[int, str, str, str | None]]:
    """(user id, channel, private chat, language) of the users with these messenger identities."""
    found = []
    for channel, external_id in identities:
        row = await fetch_one(
            conn,
            "SELECT id, channel, chat_id, language FROM users"
            " WHERE channel = ? AND external_id = ? AND unreachable = 0",
            (channel, external_id),
        )
        if row is not None:
            found.append((int(row[0]), str(row[1]), str(row[2]), row[3]))
    return found


async def add_codes(
    conn: aiosqlite.Connection, right_key: str, code_hashes: list[str], now: datetime
) -> None:
    """Keep the hashes of new one-time feedback codes of a right (they name no one)."""
    await conn.executemany(
        "INSERT INTO social_feedback_codes (code_hash, right_key, month) VALUES (?, ?, ?)",
        [(h, right_key, now.strftime("%Y-%m")) for h in code_hashes],
    )


async def code_is_open(conn: aiosqlite.Connection, code_hash: str, right_key: str) -> bool:
    """Whether the code was issued for this right and has not been used."""
    row = await fetch_one(
        conn,
        "SELECT 1 FROM social_feedback_codes WHERE code_hash = ? AND right_key = ? AND used = 0",
        (code_hash, right_key),
    )
    return row is not None


async def add_feedback(
    conn: aiosqlite.Connection,
    code_hash: str,
    right_key: str,
    *,
    received: bool,
    rating: str | None,
    now: datetime,
) -> bool:
    """Store one anonymous feedback with an open code, which it uses up; False when it is not.

    The feedback row has no link to the code or to the resident: only the right and the month.
    """
    cursor = await conn.execute(
        "UPDATE social_feedback_codes SET used = 1"
        " WHERE code_hash = ? AND right_key = ? AND used = 0",
        (code_hash, right_key),
    )
    if cursor.rowcount != 1:
        return False
    await conn.execute(
        "INSERT INTO social_feedback (right_key, received, rating, month) VALUES (?, ?, ?, ?)",
        (right_key, int(received), rating, now.strftime("%Y-%m")),
    )
    return True


async def feedback_counts(conn: aiosqlite.Connection, right_key: str) -> dict[str, int]:
    """How many said they received it, did not, and each rating."""
    rows = await fetch_all(
        conn,
        "SELECT received, rating, COUNT(*) FROM social_feedback WHERE right_key = ?"
        " GROUP BY received, rating",
        (right_key,),
    )
    counts: dict[str, int] = {}
    for received, rating, n in rows:
        key = "received" if received else "not_received"
        counts[key] = counts.get(key, 0) + int(n)
        if rating:
            counts[str(rating)] = counts.get(str(rating), 0) + int(n)
    return counts

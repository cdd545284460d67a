"""A resident's personal data: everything stored about them, its erasure, and its retention.

Erasing a person deletes their user row, conversation, subscriptions, participations, comments
and messages, and anonymises their reports: the report stays for the statistics (category,
service, place, status, dates) but loses its description, address, photos and the resident's
own words in its history, and belongs to one shared anonymous user. The connections run with
``secure_delete`` (storage/db.py), so what is deleted is overwritten in the file, not just freed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage import status, voices
from storage.clock import iso
from storage.sql import fetch_all, fetch_one

# The one user that anonymised reports belong to (reports need a user; this one is nobody).
ANONYMOUS_CHANNEL, ANONYMOUS_ID = "erased", "anonymous"

MIN_QUOTED = 8  # a comment this long, quoted in a sent message, takes that message with it

# Every column that points at a user, and what an erasure does with it. A table added later
# with a user column must be named here (tests/test_privacy_erasure.py checks the schema).
USER_COLUMNS: dict[tuple[str, str], str] = {
    ("conversations", "user_id"): "deleted",
    ("reports", "user_id"): "anonymised",
    ("report_events", "actor_id"): "anonymised (the resident's words removed)",
    ("outbox", "user_id"): "deleted",
    ("report_starts", "user_id"): "deleted",
    ("subscriptions", "user_id"): "deleted",
    ("consultation_participants", "user_id"): "deleted",
    ("consultation_comments", "user_id"): "deleted",
    ("consultation_comments", "answered_by"): "staff only",
    ("consultations", "created_by"): "staff only",
    ("consultations", "closed_by"): "staff only",
    ("pb_rounds", "created_by"): "staff only",
    ("pb_rounds", "opened_by"): "staff only",
    ("pb_rounds", "closed_by"): "staff only",
    ("pb_projects", "added_by"): "staff only",
    ("pb_paper_votes", "added_by"): "staff only",
    ("pb_votes", "user_id"): "deleted (the ballot; results already sent stay)",
    ("broadcasts", "admin_id"): "staff only",
    ("staff_members", "added_by"): "staff only",
    ("budget_versions", "imported_by"): "staff only",
    ("budget_versions", "published_by"): "staff only",
    ("report_evidence", "marked_by"): "staff only",
    ("library_follows", "user_id"): "deleted",
    ("library_readers", "user_id"): "deleted",
    ("library_supporters", "user_id"): "deleted (their reasons with them)",
    ("library_suggestions", "user_id"): "kept (a title and an author; the user row is emptied)",
    ("library_suggestions", "answered_by"): "staff only",
    ("library_events", "created_by"): "staff only",
    ("plan_events", "actor_id"): "staff only",
    ("plan_followers", "user_id"): "deleted",
    ("report_followers", "user_id"): "deleted",
    ("plan_comments", "user_id"): "deleted",
    ("plan_comments", "answered_by"): "staff only",
    ("social_questions", "user_id"): "deleted",
    ("social_questions", "answered_by"): "staff only",
    ("social_feedback_given", "user_id"): "deleted (the feedback stays as counts)",
}


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did: reports kept anonymised, those whose photos are kept as evidence,
    and the photo files no longer used by anything (to be deleted from the disk)."""

    reports: int
    evidence: int
    photos: tuple[str, ...]
    ids: tuple[int, ...] = ()


async def personal_data(conn: aiosqlite.Connection, user_id: int) -> dict[str, Any]:
    """Everything stored about one user, as plain data (the /mydata export)."""
    user = await fetch_one(
        conn,
        "SELECT u.channel, u.external_id, u.chat_id, u.first_name, u.language, u.role,"
        " u.created_at, c.state, c.updated_at FROM users u"
        " LEFT JOIN conversations c ON c.user_id = u.id WHERE u.id = ?",
        (user_id,),
    )
    if user is None:
        return {}
    rows = await fetch_all(
        conn,
        "SELECT r.id, r.ref, r.category, r.status, r.description, r.address, r.latitude,"
        " r.longitude, r.created_at, r.anonymous,"
        " (SELECT json_group_array(path) FROM report_photos p WHERE p.report_id = r.id)"
        ", r.voice FROM reports r WHERE r.user_id = ? ORDER BY r.id",
        (user_id,),
    )
    events = await fetch_all(
        conn,
        "SELECT r.ref, e.at, e.kind, e.text, e.photo, e.voice FROM report_events e"
        " JOIN reports r ON r.id = e.report_id WHERE e.actor_id = ? AND e.kind != 'created'"
        " ORDER BY e.id",
        (user_id,),
    )
    comments = await fetch_all(
        conn,
        "SELECT c.title, m.at, m.text, m.photo, m.answer FROM consultation_comments m"
        " JOIN consultations c ON c.id = m.consultation_id WHERE m.user_id = ? ORDER BY m.id",
        (user_id,),
    )
    topics = await fetch_all(
        conn, "SELECT topic, at FROM subscriptions WHERE user_id = ? ORDER BY topic", (user_id,)
    )
    written = await fetch_all(
        conn,
        "SELECT 'plan', at, text, answer FROM plan_comments WHERE user_id = :u"
        " UNION ALL SELECT 'social', at, text, answer FROM social_questions WHERE user_id = :u"
        " ORDER BY 2",
        {"u": user_id},
    )
    follows = await fetch_all(
        conn,
        "SELECT kind, value, at FROM library_follows WHERE user_id = ? ORDER BY kind, value",
        (user_id,),
    )
    followed = await fetch_all(
        conn,
        "SELECT r.ref, f.at FROM report_followers f JOIN reports r ON r.id = f.report_id"
        " WHERE f.user_id = ? ORDER BY f.at, r.ref",
        (user_id,),
    )
    return {
        "user": {
            "messenger": user[0], "id": user[1], "chat": user[2], "first_name": user[3],
            "language": user[4], "role": user[5], "since": user[6],
            "conversation": user[7], "last_message": user[8],
        },
        "reports": [
            {
                "ref": r[1], "category": r[2], "status": r[3], "description": r[4],
                "address": r[5], "latitude": r[6], "longitude": r[7], "created_at": r[8],
                "name_hidden_from_staff": bool(r[9]), "photos": _json_list(r[10]),
                "voice": r[11],
            }
            for r in rows
        ],
        "report_messages": [
            {"ref": e[0], "at": e[1], "kind": e[2], "text": e[3], "photo": e[4], "voice": e[5]}
            for e in events
        ],
        "consultation_comments": [
            {"consultation": c[0], "at": c[1], "text": c[2], "photo": c[3], "answer": c[4]}
            for c in comments
        ],
        "subscriptions": [{"topic": t[0], "since": t[1]} for t in topics],
        "plan_and_social_questions": [
            {"where": w[0], "at": w[1], "text": w[2], "answer": w[3]} for w in written
        ],
        "library_follows": [{"kind": f[0], "value": f[1], "since": f[2]} for f in follows],
        "reports_followed": [{"ref": f[0], "since": f[1]} for f in followed],
    }  # fmt: skip


def _json_list(raw: str | None) -> list[str]:
    return [str(p) for p in json.loads(raw or "[]") if p is not None]


async def anonymous_user(conn: aiosqlite.Connection, now: datetime) -> int:
    """The id of the shared anonymous user, created the first time it is needed."""
    await conn.execute(
        "INSERT OR IGNORE INTO users (channel, external_id, chat_id, first_name, unreachable,"
        " created_at) VALUES (?, ?, '', '', 1, ?)",
        (ANONYMOUS_CHANNEL, ANONYMOUS_ID, iso(now)),
    )
    row = await fetch_one(
        conn,
        "SELECT id FROM users WHERE channel = ? AND external_id = ?",
        (ANONYMOUS_CHANNEL, ANONYMOUS_ID),
    )
    assert row is not None  # noqa: S101 - inserted just above if it was not there
    return int(row[0])


async def erase_user(conn: aiosqlite.Connection, user_id: int, now: datetime) -> Erasure:
    """Erase one resident's personal data; their reports stay, anonymised (one transaction)."""
    user = await fetch_one(conn, "SELECT channel, chat_id FROM users WHERE id = ?", (user_id,))
    if user is None:
        return Erasure(0, 0, ())
    channel, chat_id = str(user[0]), str(user[1])
    ids = [int(r[0]) for r in await fetch_all(
        conn, "SELECT id FROM reports WHERE user_id = ?", (user_id,)
    )]  # fmt: skip
    refs = [str(r[0]) for r in await fetch_all(
        conn, "SELECT ref FROM reports WHERE user_id = ?", (user_id,)
    )]  # fmt: skip
    comment_photos = await fetch_all(
        conn,
        "SELECT photo FROM consultation_comments WHERE user_id = ? AND photo IS NOT NULL",
        (user_id,),
    )
    texts = [str(r[0]) for r in await fetch_all(
        conn, "SELECT text FROM consultation_comments WHERE user_id = ?", (user_id,)
    )]  # fmt: skip
    anonymised = await anonymise_reports(conn, ids, now)
    for table in (
        "conversations", "subscriptions", "report_starts", "consultation_participants",
        "consultation_comments", "reminders_sent", "library_follows", "library_readers",
        "library_supporters", "plan_followers", "plan_comments", "social_questions",
        "social_feedback_given", "report_followers", "pb_votes",
    ):  # fmt: skip
        await conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))  # noqa: S608
    await conn.execute(
        "DELETE FROM message_refs WHERE channel = ? AND chat_id = ?", (channel, chat_id)
    )
    # The messages to them, and those to staff that carry their reports or their words.
    await conn.execute(
        "DELETE FROM outbox WHERE user_id = ? OR (channel = ? AND chat_id = ?)",
        (user_id, channel, chat_id),
    )
    for ref in refs:
        await conn.execute("DELETE FROM outbox WHERE instr(payload, ?) > 0", (ref,))
    for text in (t for t in texts if len(t) >= MIN_QUOTED):
        await conn.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND instr(payload, ?) > 0", (text,)
        )
    # The row itself stays, emptied, until the goodbye message is sent (finish_erasures): the
    # dispatcher writes the conversation and that message under its id.
    await conn.execute(
        "UPDATE users SET channel = ?, external_id = 'user-' || id, chat_id = '', first_name = '',"
        " language = NULL, services = '[]', unreachable = 1 WHERE id = ?",
        (ANONYMOUS_CHANNEL, user_id),
    )
    photos = await unused_photos(conn, [*anonymised.photos, *(str(r[0]) for r in comment_photos)])
    return Erasure(anonymised.reports, anonymised.evidence, photos, tuple(ids))


async def finish_erasures(conn: aiosqlite.Connection) -> None:
    """Delete the emptied users whose goodbye message is sent, with that message and state."""
    erased = (
        "SELECT id FROM users WHERE channel = ? AND external_id != ? AND NOT EXISTS"
        " (SELECT 1 FROM outbox o WHERE o.user_id = users.id AND o.status = 'pending')"
    )
    params = (ANONYMOUS_CHANNEL, ANONYMOUS_ID)
    for table in ("outbox", "conversations"):
        await conn.execute(f"DELETE FROM {table} WHERE user_id IN ({erased})", params)  # noqa: S608
    await conn.execute(f"DELETE FROM users WHERE id IN ({erased})", params)  # noqa: S608


async def anonymise_reports(
    conn: aiosqlite.Connection, report_ids: list[int], now: datetime
) -> Erasure:
    """Take the personal data out of these reports (their photos unless kept as evidence)."""
    if not report_ids:
        return Erasure(0, 0, ())
    anon = await anonymous_user(conn, now)
    marks = ", ".join("?" for _ in report_ids)
    evidence = [int(r[0]) for r in await fetch_all(
        conn, f"SELECT report_id FROM report_evidence WHERE report_id IN ({marks})",  # noqa: S608
        report_ids,
    )]  # fmt: skip
    free = [i for i in report_ids if i not in evidence]
    free_marks = ", ".join("?" for _ in free) or "NULL"
    # The photos and voice notes: the report's own, and those of the resident's comments.
    photos = await fetch_all(
        conn,
        f"SELECT path FROM report_photos WHERE report_id IN ({free_marks})"  # noqa: S608
        f" UNION SELECT voice FROM reports WHERE id IN ({free_marks}) AND voice IS NOT NULL"
        " UNION SELECT e.photo FROM report_events e JOIN reports r ON r.id = e.report_id"
        f" WHERE e.report_id IN ({free_marks}) AND e.actor_id = r.user_id"
        " AND e.photo IS NOT NULL"
        " UNION SELECT e.voice FROM report_events e JOIN reports r ON r.id = e.report_id"
        f" WHERE e.report_id IN ({free_marks}) AND e.actor_id = r.user_id"
        " AND e.voice IS NOT NULL",
        [*free, *free, *free, *free],
    )
    await conn.execute(f"DELETE FROM report_photos WHERE report_id IN ({free_marks})", free)  # noqa: S608
    # Who followed them: an anonymised report sends no more news.
    await conn.execute(f"DELETE FROM report_followers WHERE report_id IN ({marks})", report_ids)  # noqa: S608
    # The names, e-mails and phones of reports filed through the Open311 API.
    await conn.execute(f"DELETE FROM report_contacts WHERE report_id IN ({marks})", report_ids)  # noqa: S608
    # The resident's own words in the history (comments, answers); the municipality's stay.
    mine = "actor_id = (SELECT user_id FROM reports r WHERE r.id = report_events.report_id)"
    photo = f"CASE WHEN report_id IN ({free_marks}) THEN NULL ELSE photo END"
    voice = f"CASE WHEN report_id IN ({free_marks}) THEN NULL ELSE voice END"
    scrub = f"UPDATE report_events SET text = NULL, actor_id = ?, photo = {photo}, voice = {voice}"  # noqa: S608
    await conn.execute(
        f"{scrub} WHERE report_id IN ({marks}) AND {mine}", [anon, *free, *free, *report_ids]
    )
    keep = "user_id = ?, description = '', address = NULL, anonymous = 1, anonymised_at = ?"
    kept_voice = f"voice = CASE WHEN id IN ({free_marks}) THEN NULL ELSE voice END"
    await conn.execute(
        f"UPDATE reports SET {keep}, {kept_voice} WHERE id IN ({marks})",  # noqa: S608
        [anon, iso(now), *free, *report_ids],
    )
    return Erasure(len(report_ids), len(evidence), tuple(str(r[0]) for r in photos))


async def unused_photos(conn: aiosqlite.Connection, paths: list[str]) -> tuple[str, ...]:
    """Those of ``paths`` that nothing refers to any more (photos are shared by content hash:
    another resident may have sent the same picture, or have it in a draft)."""
    unused = []
    for path in dict.fromkeys(paths):
        row = await fetch_one(
            conn,
            "SELECT EXISTS (SELECT 1 FROM report_photos WHERE path = :p)"
            " OR EXISTS (SELECT 1 FROM report_events WHERE photo = :p OR voice = :p)"
            " OR EXISTS (SELECT 1 FROM reports WHERE voice = :p)"
            " OR EXISTS (SELECT 1 FROM consultation_comments WHERE photo = :p)"
            " OR EXISTS (SELECT 1 FROM conversations WHERE instr(draft, :p) > 0)",
            {"p": path},
        )
        if row is not None and not row[0]:
            unused.append(path)
    return tuple(unused)


async def ended_before(conn: aiosqlite.Connection, moment: datetime) -> list[int]:
    """Reports closed or rejected before ``moment`` whose personal data is still there."""
    rows = await fetch_all(
        conn,
        f"SELECT id FROM reports WHERE status IN ({status.marks(status.ENDED)})"  # noqa: S608
        " AND updated_at < ? AND anonymised_at IS NULL ORDER BY id LIMIT 500",
        [*status.ENDED, iso(moment)],
    )
    return [int(r[0]) for r in rows]


async def mark_evidence(
    conn: aiosqlite.Connection, report_id: int, staff_id: int, now: datetime
) -> bool:
    """Keep a report's photos as evidence; False when they were kept already."""
    rows = await fetch_all(
        conn,
        "INSERT OR IGNORE INTO report_evidence (report_id, marked_by, at) VALUES (?, ?, ?)"
        " RETURNING report_id",
        (report_id, staff_id, iso(now)),
    )
    return bool(rows)


async def database_folder(conn: aiosqlite.Connection) -> Path | None:
    """The data folder: the database file lives in it, beside the photos (bot/settings.py)."""
    rows = await fetch_all(conn, "PRAGMA database_list")
    main = next((r for r in rows if r[1] == "main"), None)
    return Path(main[2]).parent if main is not None and main[2] else None


async def delete_photo_files(conn: aiosqlite.Connection, paths: tuple[str, ...]) -> int:
    """Delete these photos and voice notes from the data folder (only files under its photos/
    and voice/); return how many.

    Called inside the erasing transaction, last: if that transaction still fails, the rows
    point at missing files, and the resident's next /deleteme finishes the erasure.
    """
    folder = await database_folder(conn)
    if folder is None:
        return 0
    kept_in = [(folder / name).resolve() for name in ("photos", voices.FOLDER)]
    deleted = 0
    for path in paths:
        target = (folder / path).resolve()
        if any(target.is_relative_to(f) for f in kept_in) and target.is_file():
            target.unlink()
            deleted += 1
    return deleted

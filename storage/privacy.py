"""A resident's personal data: everything stored about them, its erasure, and its retention.

Erasing a person deletes their user row, conversation, subscriptions, participations, comments
and messages, and anonymises their reports: the report stays for the statistics (category,
service, place, status, dates) but loses its description, address, photos and the resident's
own words in its history, and belongs to one shared anonymous user. The connections run with
``secure_delete`` (storage/db.py), so what is deleted is overwritten in the file, not just freed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage import budget_audit, exports, status, voices
from storage.clock import iso
from storage.duplicates import FOLLOWER_PART
from storage.sql import fetch_all, fetch_one, run_together

# The one user that anonymised reports belong to (reports need a user; this one is nobody).
ANONYMOUS_CHANNEL, ANONYMOUS_ID = "erased", "anonymous"

MIN_QUOTED = 8  # a comment this long, quoted in a sent message, takes that message with it
QUOTED_PREFIX = 200  # what of a text is matched: lists quote no more of it

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
    ("budget_events", "actor_id"): "staff only",
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


# The columns whose rows outlive the user they point at: an erasure points them at the anonymous
# user (the rows of the others are deleted), or the user row could not be deleted. A report's
# owner is not among them: its report is anonymised first (anonymise_reports).
KEPT_COLUMNS = tuple(
    column for column, what in USER_COLUMNS.items()
    if not what.startswith("deleted") and column != ("reports", "user_id")
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did: reports kept anonymised, those whose photos are kept as evidence,
    and the photo files no longer used by anything (to be deleted from the disk)."""

    reports: int
    evidence: int
    photos: tuple[str, ...]
    ids: tuple[int, ...] = ()


# Every column that names a resident (or their contact details), and where /mydata exports it:
# the export's section, or why it is not in the export. A table added later with such a column
# must be named here (tests/test_privacy_export.py checks the schema).
EXPORTED: dict[tuple[str, str], str] = {
    ("users", "external_id"): "user",
    ("users", "chat_id"): "user",
    ("users", "first_name"): "user",
    ("conversations", "user_id"): "user",
    ("reports", "user_id"): "reports",
    ("report_contacts", "first_name"): "reports",
    ("report_contacts", "last_name"): "reports",
    ("report_contacts", "email"): "reports",
    ("report_contacts", "phone"): "reports",
    ("report_events", "actor_id"): "report_messages",
    ("report_followers", "user_id"): "reports_followed",
    ("report_starts", "user_id"): "report_starts",
    ("subscriptions", "user_id"): "subscriptions",
    ("consultation_participants", "user_id"): "consultations_joined",
    ("reminders_sent", "user_id"): "consultation_reminders",
    ("consultation_comments", "user_id"): "consultation_comments",
    ("pb_votes", "user_id"): "ballots",
    ("plan_followers", "user_id"): "plan_follows",
    ("plan_comments", "user_id"): "plan_and_social_questions",
    ("social_questions", "user_id"): "plan_and_social_questions",
    ("social_feedback_given", "user_id"): "social_feedback_given",
    ("library_follows", "user_id"): "library_follows",
    ("library_readers", "user_id"): "library_alerts",
    ("library_suggestions", "user_id"): "library_suggestions",
    ("library_supporters", "user_id"): "library_supported",
}
NOT_EXPORTED: dict[tuple[str, str], str] = {
    ("outbox", "chat_id"): "the messages to the resident themselves, already in their chat",
    ("outbox", "user_id"): "the messages to the resident themselves, already in their chat,"
    " and those to staff that carry their words",
    ("message_refs", "chat_id"): "the ids of cards sent to a chat, so that they can be edited",
    ("staff_members", "external_id"): "staff accounts listed by an admin, not residents",
    **{column: "staff only: who acted for the municipality" for column, what in
       USER_COLUMNS.items() if what == "staff only"},
}  # fmt: skip


async def personal_data(conn: aiosqlite.Connection, user_id: int) -> dict[str, Any]:
    """Everything stored about one user, as plain data (the /mydata export; see EXPORTED)."""
    user = await fetch_one(
        conn,
        "SELECT u.channel, u.external_id, u.chat_id, u.first_name, u.language, u.role,"
        " u.created_at, c.state, c.updated_at, c.draft FROM users u"
        " LEFT JOIN conversations c ON c.user_id = u.id WHERE u.id = ?",
        (user_id,),
    )
    if user is None:
        return {}
    data: dict[str, Any] = {
        "user": {
            "messenger": user[0], "id": user[1], "chat": user[2], "first_name": user[3],
            "language": user[4], "role": user[5], "since": user[6],
            "conversation": user[7], "last_message": user[8],
            "draft": json.loads(user[9]) if user[9] else {},
        },
    }  # fmt: skip
    rows = await run_together(conn, [(sql, {"u": user_id}) for sql in _SECTIONS.values()])
    for (section, sql), found in zip(_SECTIONS.items(), rows, strict=True):
        del sql
        data[section] = [_row(section, dict(r)) for r in found]
    return data


def _row(section: str, row: dict[str, Any]) -> dict[str, Any]:
    """One exported row: JSON lists decoded, flags as booleans."""
    if section == "reports":
        row["photos"] = _json_list(row["photos"])
        row["name_hidden_from_staff"] = bool(row["name_hidden_from_staff"])
        contact = {k: row.pop(k) for k in _CONTACT}
        row["contact"] = contact if any(v is not None for v in contact.values()) else None
        if row["contact"] is not None:
            row["contact"]["email_consent"] = bool(row["contact"]["email_consent"])
    if section == "consultation_comments":
        row["later_photos"] = _json_list(row["later_photos"])
        row["answers"] = json.loads(row["answers"] or "[]")
    if section == "consultations_joined":
        row.update(remind=bool(row["remind"]), attend=bool(row["attend"]))
    return row


_CONTACT = ("first_name", "last_name", "email", "phone", "device_id", "account_id", "email_consent")

# One query per section of the export, each on the user's id (:u), run in one hop.
# JSON is built by SQLite's json_group_array/json_object/json_extract: SQL has no form of them
# that SQLite has (PostgreSQL would write json_agg(... ORDER BY ...), json_build_object, ->>).
# The ordered subqueries give the arrays their order (SQLite before 3.44 has no ORDER BY in
# an aggregate).
_SECTIONS: dict[str, str] = {
    "reports": "SELECT r.ref, r.category, r.status, r.description, r.address, r.latitude,"
    " r.longitude, r.created_at, r.anonymous AS name_hidden_from_staff,"
    " (SELECT json_group_array(path) FROM report_photos p WHERE p.report_id = r.id) AS photos,"
    " r.voice, c.first_name, c.last_name, c.email, c.phone, c.device_id, c.account_id,"
    " c.email_consent FROM reports r LEFT JOIN report_contacts c ON c.report_id = r.id"
    " WHERE r.user_id = :u ORDER BY r.id",
    "report_messages": "SELECT r.ref, e.at, e.kind, e.text, e.photo, e.voice FROM report_events e"
    " JOIN reports r ON r.id = e.report_id WHERE e.actor_id = :u AND e.kind != 'created'"
    " ORDER BY e.id",
    "reports_followed": "SELECT r.ref, f.at AS since FROM report_followers f"
    " JOIN reports r ON r.id = f.report_id WHERE f.user_id = :u ORDER BY f.at, r.ref",
    "report_starts": "SELECT at FROM report_starts WHERE user_id = :u ORDER BY at",
    "subscriptions": "SELECT topic, at AS since FROM subscriptions WHERE user_id = :u"
    " ORDER BY topic",
    "consultations_joined": "SELECT c.title AS consultation, c.budget_year, p.remind, p.attend"
    " FROM consultation_participants p JOIN consultations c ON c.id = p.consultation_id"
    " WHERE p.user_id = :u ORDER BY c.id",
    "consultation_reminders": "SELECT c.title AS consultation, s.minutes_before, s.at"
    " FROM reminders_sent s LEFT JOIN consultations c ON c.id = s.consultation_id"
    " WHERE s.user_id = :u ORDER BY s.at",
    "consultation_comments": "SELECT c.title AS consultation, c.budget_year, m.at, m.text,"
    " m.photo, (SELECT json_group_array(path) FROM (SELECT path FROM consultation_comment_photos"
    " p WHERE p.comment_id = m.id ORDER BY p.position) AS ordered) AS later_photos, m.program,"
    " m.cost,"
    " m.latitude, m.longitude, m.answer, m.verdict,"
    # a proposal's answers as the audit keeps them (the earlier reasons too), never who gave them
    " (SELECT json_group_array(json_object('at', e.at, 'verdict',"
    " json_extract(e.detail, '$.verdict'), 'reason', e.text)) FROM (SELECT at, detail, text"
    " FROM budget_events WHERE object = 'proposal' AND object_id = m.id"
    " AND action IN ('answer_given', 'answer_changed') ORDER BY id) e) AS answers"
    " FROM consultation_comments m JOIN consultations c ON c.id = m.consultation_id"
    " WHERE m.user_id = :u ORDER BY m.id",
    "ballots": "SELECT r.title AS round, p.name AS project, p.cost, v.at FROM pb_votes v"
    " JOIN pb_rounds r ON r.id = v.round_id JOIN pb_projects p ON p.id = v.project_id"
    " WHERE v.user_id = :u ORDER BY r.id, p.id",
    "plan_follows": "SELECT m.plan, m.key, m.title, f.at AS since FROM plan_followers f"
    " JOIN plan_measures m ON m.id = f.measure_id WHERE f.user_id = :u ORDER BY m.plan, m.key",
    "plan_and_social_questions": "SELECT 'plan' AS \"where\", m.title AS about, c.at, c.text,"
    " c.answer FROM plan_comments c JOIN plan_measures m ON m.id = c.measure_id"
    " WHERE c.user_id = :u UNION ALL SELECT 'social', NULL, at, text, answer"
    " FROM social_questions WHERE user_id = :u ORDER BY 3",
    "social_feedback_given": "SELECT right_key FROM social_feedback_given WHERE user_id = :u"
    " ORDER BY right_key",
    "library_follows": "SELECT kind, value, at AS since FROM library_follows WHERE user_id = :u"
    " ORDER BY kind, value",
    "library_alerts": "SELECT mode FROM library_readers WHERE user_id = :u",
    "library_suggestions": "SELECT title, author, isbn, status, answer, created_at AS at"
    " FROM library_suggestions WHERE user_id = :u ORDER BY id",
    "library_supported": "SELECT s.title, s.author, p.reason, p.at FROM library_supporters p"
    " JOIN library_suggestions s ON s.id = p.suggestion_id WHERE p.user_id = :u"
    " ORDER BY p.at",
}


async def export_paths_in_use(
    conn: aiosqlite.Connection, since: datetime, fetched_later: tuple[str, ...]
) -> list[str]:
    """The export files that messages written since ``since`` still need: those not sent yet,
    and those of messengers that fetch a file by URL after taking the message."""
    marks = ", ".join("?" for _ in fetched_later) or "NULL"
    # json_extract is SQLite's (PostgreSQL: payload::json->'document'->>'path'); the outbox
    # keeps its payload as JSON text.
    rows = await fetch_all(
        conn,
        "SELECT json_extract(payload, '$.document.path') FROM outbox WHERE created_at >= ?"  # noqa: S608
        f" AND (status IN ('pending', 'sending') OR channel IN ({marks}))"
        " AND json_extract(payload, '$.document.path') IS NOT NULL",
        [iso(since), *fetched_later],
    )
    return [str(r[0]) for r in rows]


def _json_list(raw: str | None) -> list[str]:
    return [str(p) for p in json.loads(raw or "[]") if p is not None]


async def anonymous_user(conn: aiosqlite.Connection, now: datetime) -> int:
    """The id of the shared anonymous user, created the first time it is needed."""
    await conn.execute(
        "INSERT INTO users (channel, external_id, chat_id, first_name, unreachable,"
        " created_at) VALUES (?, ?, '', '', 1, ?) ON CONFLICT DO NOTHING",
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
        "SELECT photo FROM consultation_comments WHERE user_id = :u AND photo IS NOT NULL"
        " UNION SELECT path FROM consultation_comment_photos WHERE comment_id IN"
        " (SELECT id FROM consultation_comments WHERE user_id = :u)",
        {"u": user_id},
    )
    await conn.execute(  # before the comments they belong to
        "DELETE FROM consultation_comment_photos WHERE comment_id IN"
        " (SELECT id FROM consultation_comments WHERE user_id = ?)",
        (user_id,),
    )
    # Their words that messages to staff quote: those sent before the messages named them
    # (``about``), and the reasons a librarian's list of suggestions quotes for several people.
    texts = [str(r[0]) for r in await fetch_all(
        conn, "SELECT text FROM consultation_comments WHERE user_id = :u"
        " UNION ALL SELECT text FROM report_events WHERE actor_id = :u AND kind = :part"
        " AND text IS NOT NULL UNION ALL SELECT text FROM plan_comments WHERE user_id = :u"
        " UNION ALL SELECT text FROM social_questions WHERE user_id = :u"
        " UNION ALL SELECT reason FROM library_supporters WHERE user_id = :u"
        " AND reason IS NOT NULL", {"u": user_id, "part": FOLLOWER_PART},
    )]  # fmt: skip
    followed = await scrub_follower_parts(conn, "actor_id = ?", [user_id], now)
    # Their reports stay open for the municipality, and so does the news to those who follow
    # them: the followers are other residents, told the municipality's side only.
    anonymised = await anonymise_reports(conn, ids, now, keep_followers=True)
    # The reasons given to their proposals go with the proposals; the audit keeps who and what.
    await budget_audit.detach_proposals_of(conn, user_id)
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
    # Their data export's files go with the messages that send them (json_extract: see above).
    exported = await fetch_all(
        conn,
        "SELECT json_extract(payload, '$.document.path') FROM outbox"
        " WHERE (user_id = ? OR (channel = ? AND chat_id = ?))"
        " AND json_extract(payload, '$.document.path') IS NOT NULL",
        (user_id, channel, chat_id),
    )
    # The messages to them, and those to staff that carry their reports or their words.
    await conn.execute(
        "DELETE FROM outbox WHERE user_id = ? OR (channel = ? AND chat_id = ?)",
        (user_id, channel, chat_id),
    )
    # instr() is SQLite's (PostgreSQL: strpos; SQL's POSITION(... IN ...) SQLite lacks): LIKE
    # would need the text escaped and is case-blind for ASCII in SQLite.
    for ref in refs:  # the staff's cards and e-mails; not the followers' news
        await conn.execute(
            "DELETE FROM outbox WHERE instr(payload, :ref) > 0 AND NOT EXISTS (SELECT 1"
            " FROM report_followers f JOIN reports r ON r.id = f.report_id"
            " JOIN users u ON u.id = f.user_id WHERE r.ref = :ref"
            " AND u.channel = outbox.channel AND u.chat_id = outbox.chat_id)",
            {"ref": ref},
        )
    for text in (t for t in texts if len(t) >= MIN_QUOTED):
        await conn.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND instr(payload, ?) > 0",
            (quoted(text),),
        )
    await hand_to_anonymous(conn, user_id, now)
    # The row itself stays, emptied, until the goodbye message is sent (finish_erasures): the
    # dispatcher writes the conversation and that message under its id.
    await conn.execute(
        "UPDATE users SET channel = ?, external_id = 'user-' || id, chat_id = '', first_name = '',"
        " language = NULL, services = '[]', unreachable = 1 WHERE id = ?",
        (ANONYMOUS_CHANNEL, user_id),
    )
    photos = await unused_photos(
        conn, [*anonymised.photos, *followed, *(str(r[0]) for r in comment_photos)]
    )
    photos += tuple(str(r[0]) for r in exported)
    return Erasure(anonymised.reports, anonymised.evidence, photos, tuple(ids))


def quoted(text: str) -> str:
    """How a message's payload (JSON) holds the start of ``text``: quotes and line ends escaped,
    and no longer than a list quotes it (a librarian's list: the first 200 characters)."""
    return json.dumps(text[:QUOTED_PREFIX], ensure_ascii=False)[1:-1]


async def hand_to_anonymous(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """Point what stays of a user (a title they suggested, a librarian's or an operator's acts)
    at the anonymous user, so that the user row can go."""
    anon = await anonymous_user(conn, now)
    for table, column in KEPT_COLUMNS:
        await conn.execute(
            f"UPDATE {table} SET {column} = ? WHERE {column} = ?",  # noqa: S608
            (anon, user_id),
        )


async def finish_erasures(conn: aiosqlite.Connection, now: datetime) -> list[int]:
    """Delete the emptied users whose goodbye message is sent, with that message and state,
    each on its own (one that something still refers to never holds up the others); return
    the ids of those that could not be deleted."""
    due = await fetch_all(
        conn,
        "SELECT id FROM users WHERE channel = ? AND external_id != ? AND NOT EXISTS"
        " (SELECT 1 FROM outbox o WHERE o.user_id = users.id AND o.status = 'pending')"
        " ORDER BY id",
        (ANONYMOUS_CHANNEL, ANONYMOUS_ID),
    )
    stuck = []
    for user_id in (int(r[0]) for r in due):
        await conn.execute("SAVEPOINT finish_erasure")
        try:
            # Erased before the kept columns were handed over: what they left still points here.
            await hand_to_anonymous(conn, user_id, now)
            for table in ("outbox", "conversations"):
                await conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))  # noqa: S608
            await conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
        except sqlite3.IntegrityError:
            await conn.execute("ROLLBACK TO finish_erasure")
            stuck.append(user_id)
        await conn.execute("RELEASE finish_erasure")
    return stuck


async def anonymise_reports(
    conn: aiosqlite.Connection,
    report_ids: list[int],
    now: datetime,
    *,
    keep_followers: bool = False,
) -> Erasure:
    """Take the personal data out of these reports (their photos unless kept as evidence);
    their followers go too, unless ``keep_followers`` (a reporter's erasure: still open)."""
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
    if not keep_followers:  # an ended report past its retention sends no more news
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


async def scrub_follower_parts(
    conn: aiosqlite.Connection, where: str, params: Sequence[object], now: datetime
) -> tuple[str, ...]:
    """Take the words, photos and voice notes out of the followers' parts of reports (those
    ``where`` picks); the photos of a report kept as evidence stay. Returns the files let go."""
    evidence = "report_id IN (SELECT report_id FROM report_evidence)"
    rows = await fetch_all(
        conn,
        f"SELECT id, photo, voice, {evidence} FROM report_events WHERE kind = ? AND {where}"  # noqa: S608
        f" AND (text IS NOT NULL OR voice IS NOT NULL OR (photo IS NOT NULL AND NOT {evidence}))",
        [FOLLOWER_PART, *params],
    )
    if not rows:
        return ()
    anon = await anonymous_user(conn, now)
    await conn.executemany(
        "UPDATE report_events SET text = NULL, voice = NULL, actor_id = ?,"
        " photo = CASE WHEN ? THEN photo ELSE NULL END WHERE id = ?",
        [(anon, bool(r[3]), int(r[0])) for r in rows],
    )
    return tuple(str(f) for r in rows for f in (None if r[3] else r[1], r[2]) if f)


async def unused_photos(conn: aiosqlite.Connection, paths: list[str]) -> tuple[str, ...]:
    """Those of ``paths`` that nothing refers to any more (photos are shared by content hash:
    another resident may have sent the same picture, or have it in a draft).

    Each table is read once per 500 paths, and the drafts once: a path at a time scanned them
    all for every path (a sweep of a week's photos held the writer for seconds).
    """
    wanted = list(dict.fromkeys(paths))
    named: set[str] = set()
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        marks = ", ".join("?" for _ in part)
        rows = await fetch_all(
            conn,
            f"SELECT path FROM report_photos WHERE path IN ({marks})"  # noqa: S608
            f" UNION SELECT photo FROM report_events WHERE photo IN ({marks})"
            f" UNION SELECT voice FROM report_events WHERE voice IN ({marks})"
            f" UNION SELECT voice FROM reports WHERE voice IN ({marks})"
            f" UNION SELECT photo FROM consultation_comments WHERE photo IN ({marks})"
            f" UNION SELECT path FROM consultation_comment_photos WHERE path IN ({marks})",
            part * 6,
        )
        named.update(str(r[0]) for r in rows)
    left = [p for p in wanted if p not in named]
    if not left:
        return ()
    # A draft is JSON text that may name the file; only those naming a file of these folders
    # are read (instr(): see erase_user).
    folders = sorted({p.split("/", 1)[0] + "/" for p in left})
    drafts = await fetch_all(
        conn,
        "SELECT draft FROM conversations WHERE "  # noqa: S608
        + " OR ".join("instr(draft, ?) > 0" for _ in folders),
        folders,
    )
    texts = [str(r[0]) for r in drafts]
    return tuple(p for p in left if not any(p in text for text in texts))


async def discard_unused_photos(conn: aiosqlite.Connection, paths: Sequence[str]) -> int:
    """Delete the files of photos saved before the transaction and then refused (the fourth of
    an album), unless something refers to them (the same picture, sent before); how many."""
    return await delete_photo_files(conn, await unused_photos(conn, list(paths)))


async def ended_before(conn: aiosqlite.Connection, moment: datetime) -> list[int]:
    """Reports closed or rejected before ``moment`` whose personal data is still there."""
    rows = await fetch_all(
        conn,
        f"SELECT id FROM reports WHERE status IN ({status.marks(status.ENDED)})"  # noqa: S608
        " AND updated_at < ? AND anonymised_at IS NULL ORDER BY id LIMIT 500",
        [*status.ENDED, iso(moment)],
    )
    return [int(r[0]) for r in rows]


async def drop_followers_ended_before(
    conn: aiosqlite.Connection, moment: datetime, now: datetime
) -> tuple[str, ...]:
    """Drop the followers of reports ended before ``moment``, anonymised or not (a reporter's
    erasure anonymises the report but keeps its followers while it is open), and their parts of
    those reports; the photo files let go."""
    ended = (
        "report_id IN (SELECT id FROM reports"  # noqa: S608
        f" WHERE status IN ({status.marks(status.ENDED)}) AND updated_at < ?)"
    )
    params = [*status.ENDED, iso(moment)]
    await conn.execute(f"DELETE FROM report_followers WHERE {ended}", params)  # noqa: S608
    return await scrub_follower_parts(conn, ended, params, now)


async def drop_questions_before(conn: aiosqlite.Connection, moment: datetime) -> None:
    """Delete the questions on the plan and to the Centre for Social Work answered before
    ``moment``, and those asked before it and never answered."""
    for table in ("plan_comments", "social_questions"):
        await conn.execute(
            f"DELETE FROM {table} WHERE COALESCE(answered_at, at) < ?",  # noqa: S608
            (iso(moment),),
        )


async def drop_consultation_comments_before(
    conn: aiosqlite.Connection, moment: datetime
) -> tuple[str, ...]:
    """Delete the comments and budget proposals (with their photos' rows) of the consultations
    that ended before ``moment``; return the photo files they named."""
    ids = [int(r[0]) for r in await fetch_all(
        conn,
        "SELECT m.id FROM consultation_comments m JOIN consultations c"
        " ON c.id = m.consultation_id WHERE c.ends_at < ? ORDER BY m.id LIMIT 500",
        (iso(moment),),
    )]  # fmt: skip
    if not ids:
        return ()
    marks = ", ".join("?" for _ in ids)
    photos = await fetch_all(
        conn,
        f"SELECT photo FROM consultation_comments WHERE id IN ({marks})"  # noqa: S608
        f" AND photo IS NOT NULL UNION SELECT path FROM consultation_comment_photos"
        f" WHERE comment_id IN ({marks})",
        [*ids, *ids],
    )
    proposals = [int(r[0]) for r in await fetch_all(
        conn, f"SELECT id FROM consultation_comments WHERE id IN ({marks})"  # noqa: S608
        " AND program IS NOT NULL", ids,
    )]  # fmt: skip
    # The audit keeps who answered, when and the verdict; the reasons go with the proposals.
    await budget_audit.detach_proposals(conn, proposals, "retention")
    photo_rows = f"DELETE FROM consultation_comment_photos WHERE comment_id IN ({marks})"  # noqa: S608
    await conn.execute(photo_rows, ids)
    await conn.execute(f"DELETE FROM consultation_comments WHERE id IN ({marks})", ids)  # noqa: S608
    return tuple(str(r[0]) for r in photos)


async def drop_reasons_answered_before(conn: aiosqlite.Connection, moment: datetime) -> None:
    """Forget why residents wanted a title the library answered before ``moment``."""
    await conn.execute(
        "UPDATE library_supporters SET reason = NULL WHERE reason IS NOT NULL AND suggestion_id"
        " IN (SELECT id FROM library_suggestions WHERE answered_at < ?)",
        (iso(moment),),
    )


async def mark_evidence(
    conn: aiosqlite.Connection, report_id: int, staff_id: int, now: datetime
) -> bool:
    """Keep a report's photos as evidence; False when they were kept already."""
    rows = await fetch_all(
        conn,
        "INSERT INTO report_evidence (report_id, marked_by, at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING RETURNING report_id",
        (report_id, staff_id, iso(now)),
    )
    return bool(rows)


async def database_folder(conn: aiosqlite.Connection) -> Path | None:
    """The data folder: the database file lives in it, beside the photos (bot/settings.py)."""
    rows = await fetch_all(conn, "PRAGMA database_list")  # SQLite's: the file behind the connection
    main = next((r for r in rows if r[1] == "main"), None)
    return Path(main[2]).parent if main is not None and main[2] else None


async def delete_photo_files(conn: aiosqlite.Connection, paths: tuple[str, ...]) -> int:
    """Delete these photos, voice notes and data exports from the data folder (only files under
    its photos/, voice/ and exports/); return how many.

    Called inside the erasing transaction, last: if that transaction still fails, the rows
    point at missing files, and the resident's next /deleteme finishes the erasure.
    """
    folder = await database_folder(conn)
    if folder is None:
        return 0
    kept_in = [(folder / name).resolve() for name in ("photos", voices.FOLDER, exports.FOLDER)]
    deleted = 0
    for path in paths:
        target = (folder / path).resolve()
        if any(target.is_relative_to(f) for f in kept_in) and target.is_file():
            target.unlink()
            deleted += 1
    return deleted

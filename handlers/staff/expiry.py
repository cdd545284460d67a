"""Questions to staff that wait too long expire, and the chat where they were asked is told."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from handlers.events import Outgoing, Reply
from handlers.i18n import translator
from handlers.municipality import Municipality
from handlers.staff.operations import StaffState, expiry_note
from storage import users

RESUME = "_resume"


async def expire_questions(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Staff whose Reply or fix-photo question has expired go back; their chat is told once."""
    before = now - timedelta(minutes=m.staff_answer_minutes)
    waiting = await users.waiting_since(conn, [str(s) for s in StaffState], before)
    out: list[Outgoing] = []
    for conversation in waiting:
        saved = conversation.draft.get(RESUME) or {}
        state = str(saved.get("state") or "")
        draft = saved.get("draft") if isinstance(saved.get("draft"), dict) else {}
        await users.save_state(conn, conversation.user.id, state, draft or {}, now)
        chat = conversation.draft.get("chat")
        if isinstance(chat, str):
            # A staff chat is read by all its members: it is told in the staff's language.
            own = chat in ("", conversation.user.chat_id)
            language = conversation.user.language if own else None
            t = translator(language or m.staff_language, m.timezone)
            out.append(Outgoing(conversation.user.channel, chat, Reply(expiry_note(t))))
    return out

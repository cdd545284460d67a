"""Work that is due by time, not by a message; what is due is read from the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from handlers.events import Outgoing, Reply
from handlers.i18n import translator
from handlers.municipality import Municipality
from handlers.notices import card, to_service
from storage import reports, users


async def close_unconfirmed(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Close resolved reports whose resident did not answer "is it fixed?" in time.

    Run twice, it closes nothing twice: the transition only happens from ``resolved``.
    """
    due = await reports.resolved_before(conn, now - timedelta(days=m.fix_confirmation_days))
    out: list[Outgoing] = []
    for report_id in due:
        if await reports.transition(conn, report_id, "resolved", "closed", actor_id=None, now=now):
            out += await closed_notices(conn, m, report_id)
    return out


async def closed_notices(
    conn: aiosqlite.Connection, m: Municipality, report_id: int
) -> list[Outgoing]:
    """Tell the resident and update the card of a report closed for want of an answer."""
    report = await reports.get_report(conn, report_id)
    resident = await users.load_conversation_by_id(conn, report.user_id) if report else None
    if report is None or resident is None:
        return []
    user = resident.user
    t = translator(user.language)
    text = t.gettext(
        "Your report {ref} is closed, as we did not hear that the problem is still there."
        " If it is, write to us with a new report.",
        ref=report.ref,
    )
    out = [Outgoing(user.channel, user.chat_id, Reply(text))]
    return out + to_service(m, report.service, card(m, report, user.first_name, edit=True))

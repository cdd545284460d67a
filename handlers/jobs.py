"""Work that is due by time, not by a message; what is due is read from the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from handlers.consultation_titles import title_for
from handlers.events import Outgoing, Reply
from handlers.flow import Flow, Job
from handlers.i18n import translator
from handlers.municipality import Municipality
from handlers.notices import API_CHANNEL, card, to_service
from storage import consultations, outbox, reports, updates, users


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
    card_update = to_service(m, report.service, card(m, report, user.first_name, edit=True))
    if user.channel == API_CHANNEL:
        return card_update
    t = translator(user.language)
    text = t.gettext(
        "Your report {ref} is closed, as we did not hear that the problem is still there."
        " If it is, write to us with a new report.",
        ref=report.ref,
    )
    if not user.chat_id:  # an anonymised report: nobody to tell
        return card_update
    return [Outgoing(user.channel, user.chat_id, Reply(text)), *card_update]


async def send_reminders(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Reminders due before consultations (once each; none after the meeting has started).

    When several are due at once (the bot was down, or someone asked late), only the nearest
    is sent: a "tomorrow" reminder half an hour before the meeting would mislead.
    """
    out: list[Outgoing] = []
    reminded: set[tuple[int, int]] = set()
    for minutes in sorted(m.reminder_minutes):
        due = await consultations.due_reminders(conn, now, minutes)
        for consultation_id, user_id, channel, chat, language in due:
            c = await consultations.get(conn, consultation_id)
            if c is None or (consultation_id, user_id) in reminded:
                continue
            reminded.add((consultation_id, user_id))
            t = translator(language, m.timezone)
            text = t.gettext(
                "⏰ Reminder: {title} starts at {time}, {place}.",
                title=title_for(t, c), time=t.datetime(c.starts_at),
                place=t.name(c.place),
            )  # fmt: skip
            out.append(Outgoing(channel, chat, Reply(text)))
        await consultations.mark_reminded(
            conn, [(c_id, u_id) for c_id, u_id, *_ in due], minutes, now
        )
    return out


async def check_sla(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
    """Flag reports past their SLA to their service; past twice the SLA, to the admins."""
    t = translator(m.staff_language)
    out: list[Outgoing] = []
    for late in await reports.late_to_flag(conn, now):
        hours = round((late.sla_due_at - late.created_at).total_seconds() / 3600)
        text = t.gettext(
            "⏰ {ref} was not acknowledged within {hours} h (SLA).", ref=late.ref, hours=hours
        )
        out += to_service(m, late.service, Reply(text))
    escalated = await reports.late_to_escalate(conn, now)
    if escalated:
        admins = await users.admins(conn)
        for late in escalated:
            for admin in admins:
                ta = translator(admin.language)
                service = ta.name(m.service_name(late.service))
                text = ta.gettext(
                    "⚠️ {ref} ({service}) is still not acknowledged, twice past its SLA.",
                    ref=late.ref, service=service,
                )  # fmt: skip
                out.append(Outgoing(admin.channel, admin.chat_id, Reply(text)))
    return out


DIGEST_HOUR = 8


async def daily_digest(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Each service's morning figures, once a day from 08:00 (later if the bot was down)."""
    local = now.astimezone(ZoneInfo(m.timezone))
    if local.hour < DIGEST_HOUR:
        return []
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    t = translator(m.staff_language)
    out: list[Outgoing] = []
    for service in m.services.values():
        if service.staff_chat_id is None or not await reports.claim_digest(
            conn, service.id, local.date().isoformat()
        ):
            continue
        d = await reports.digest(conn, service.id, now, day_start)
        text = t.gettext(
            "☀️ Good morning, {service}. New: {new}, overdue: {overdue}, resolved yesterday:"
            " {resolved}.", service=t.name(service.name), new=d.new, overdue=d.overdue,
            resolved=d.resolved_yesterday,
        )  # fmt: skip
        out += to_service(m, service.id, Reply(text))
    return out


KEEP_UPDATES = timedelta(days=7)
KEEP_SENT = timedelta(days=90)


async def purge_old(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
    """Keep the database from growing for ever: old update ids and old delivered messages."""
    await updates.purge(conn, now - KEEP_UPDATES)
    await outbox.purge(conn, now - KEEP_SENT)
    return []


# Jobs that belong to no feature: keeping the database small.
FLOW = Flow(name="maintenance", jobs=(Job("purge-old", purge_old, seconds=6 * 3600),))

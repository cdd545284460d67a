"""Followers are told of every change of a measure they follow (or of its commitment)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiosqlite

from handlers.context import buttons
from handlers.events import Outgoing, Reply
from handlers.i18n import Translator, translator
from handlers.municipality import Municipality
from handlers.plan.buttons import ShowMeasure
from handlers.plan.config import PlanSection
from handlers.plan.progress import Plan
from handlers.plan.views import day, with_plan
from storage import plan as store
from storage.plan import Measure

Say = Callable[[Translator], str]


async def tell_followers(
    conn: aiosqlite.Connection,
    plan: Plan,
    m: Measure,
    say: Say,
    plans: PlanSection,
    *,
    skip_user: int | None = None,
) -> list[Outgoing]:
    """A notice to everyone following ``m`` or one of its parents, in their language.

    With several plans the notice names the measure's plan too.
    """
    watched = [m.id, *(a.id for a in plan.ancestors(m.id))]
    out = []
    for user_id, channel, chat, language in await store.followers(conn, watched):
        if user_id == skip_user:
            continue
        t = translator(language)
        text = f"📋 {with_plan(t, plans, m)}\n{say(t)}"
        keys = ShowMeasure(m.id).button(t.gettext("Show the measure"))
        out.append(Outgoing(channel, chat, Reply(text, buttons([keys]))))
    return out


async def mark_overdue(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Mark late each measure past its end date and not done, and tell its followers once.

    The end date that was noticed is stored with the status in one compare-and-set, in the job's
    transaction with the notices: run twice, or again after a restart, it tells nobody twice. A
    measure that staff set going again is not marked late again until its end date changes.
    """
    today = now.astimezone(ZoneInfo(m.timezone)).date()
    # A plan taken out of the file is no longer the municipality's to report on.
    due = [d for d in await store.overdue(conn, today) if m.plan.get(d.plan) is not None]
    if not due:
        return []
    plan = Plan(await store.all_measures(conn))  # every plan's: ancestors are found by id
    out: list[Outgoing] = []
    for measure in due:
        changed = await store.change(
            conn, measure, status="late", progress=measure.progress, now=now,
            late_for=measure.ends_on,
        )  # fmt: skip
        if not changed:
            continue
        ends = measure.ends_on.isoformat() if measure.ends_on else None
        await store.add_event(conn, measure.id, None, "late", ends, None, None, now)
        say = _late_notice(measure.ends_on)
        out += await tell_followers(conn, plan, measure, say, m.plan)
    return out


def _late_notice(end: date | None) -> Say:
    def say(t: Translator) -> str:
        return t.gettext(
            "⏰ It was due on {date} and is not done: it is now marked late.", date=day(t, end)
        )

    return say

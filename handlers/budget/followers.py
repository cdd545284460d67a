"""What budget followers are told when a version is published: one message with what changed,
and the programs whose execution lags the share of the year that has passed."""

from __future__ import annotations

from calendar import isleap
from datetime import date

from handlers import broadcast
from handlers.budget.imports import kind_name
from handlers.budget.money import per_cent, signed_millions
from handlers.budget.programs import program_name
from handlers.context import Context
from handlers.events import Reply
from handlers.i18n import Translator
from storage import budget, subscriptions
from storage.budget import Total, Version

TOPIC = "budget"
LAG_MARGIN = 15  # per-cent points of the year's share below which a program's execution lags


def year_share(as_of: date, year: int) -> int:
    """The per cent of the budget year passed on ``as_of``."""
    if as_of.year < year:
        return 0
    if as_of.year > year:
        return 100
    days = 366 if isleap(year) else 365
    return round(100 * as_of.timetuple().tm_yday / days)


def lagging(v: Version, programs: list[Total]) -> list[Total]:
    """The programs whose executed share is more than LAG_MARGIN below the year's share."""
    if v.kind != "execution":
        return []
    expected = year_share(v.as_of, v.year)
    return [
        p for p in programs if p.planned and per_cent(p.executed, p.planned) < expected - LAG_MARGIN
    ]


def render_news(
    t: Translator, name: str, v: Version, programs: list[Total], before: dict[str, Total]
) -> Reply:
    """The followers' message, in one reader's language."""
    planned = sum(p.planned for p in programs)
    executed = sum(p.executed for p in programs)
    date_text = v.as_of.strftime("%d.%m.%Y")
    lines = [
        t.gettext(
            "💰 The budget of {name} for {year} was updated: {kind} as of {date}.",
            name=name, year=v.year, kind=kind_name(t, v.kind), date=date_text,
        )
    ]  # fmt: skip
    if v.kind == "execution":
        lines.append(
            t.gettext("Spent so far: {pct}% of the plan.", pct=per_cent(executed, planned))
        )
    changed = [
        f"• {program_name(t, p.key)}: {signed_millions(t, p.planned - before[p.key].planned)}"
        for p in programs
        if p.key in before and before[p.key].planned != p.planned
    ]
    if changed:
        lines += [t.gettext("Changes in the plan:"), *changed]
    slow = lagging(v, programs)
    if slow:
        lines.append(
            t.gettext(
                "Behind the year ({share}% of it has passed):",
                share=year_share(v.as_of, v.year),
            )
        )
        lines += [f"• {program_name(t, p.key)}: {per_cent(p.executed, p.planned)}%" for p in slow]
    return Reply("\n".join(lines))


async def tell_followers(ctx: Context, version_id: int) -> Reply | None:
    """Queue the news of a published version to every follower; the admin's progress line."""
    v = await budget.get(ctx.conn, version_id)
    if v is None:
        return None
    recipients = await subscriptions.reachable_subscribers(ctx.conn, TOPIC)
    if not recipients:
        return None
    programs = await budget.program_totals(ctx.conn, v.id)
    previous = await budget.before_version(ctx.conn, v)
    before = (
        {p.key: p for p in await budget.program_totals(ctx.conn, previous.id)} if previous else {}
    )
    m = ctx.municipality

    def render(t: Translator) -> Reply:
        return render_news(t, m.name_in(t.language), v, programs, before)

    return await broadcast.start(ctx, TOPIC, render(ctx.t).text, recipients, render)

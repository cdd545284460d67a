"""What budget followers are told when a version is published: one message with what changed,
and the programs whose execution lags the share of the year that has passed.

A resident follows the whole budget (topic ``budget``) or single programs (``budget:0701``); each
gets one message: the whole budget's news, and the programs they follow whose figures changed.
"""

from __future__ import annotations

from calendar import isleap
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from handlers import broadcast
from handlers.broadcast import Recipient
from handlers.budget.imports import kind_name
from handlers.budget.money import millions, per_cent, signed_millions
from handlers.budget.programs import program_name
from handlers.context import Context
from handlers.events import Reply
from handlers.i18n import Translator
from handlers.municipality import Municipality
from storage import budget, subscriptions
from storage.budget import Total, Version

TOPIC = "budget"


async def tell(
    ctx: Context,
    audience: list[Recipient],
    render: broadcast.Render,
    done: Reply | None = None,
) -> list[Reply]:
    """The admin's replies when something is published to ``audience`` (the budget's topic): the
    broadcast's progress when anyone is told, then ``done`` (by default what they read)."""
    shown = done or render(ctx.t)
    if not audience:
        return [shown]
    return [await broadcast.start(ctx, TOPIC, render(ctx.t).text, audience, render), shown]


async def with_followers(conn: aiosqlite.Connection, *groups: list[Recipient]) -> list[Recipient]:
    """``groups`` and the budget's followers, each once."""
    return broadcast.each_once(*groups, await subscriptions.reachable_subscribers(conn, TOPIC))


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
    date_text = t.date(v.as_of)
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


def program_topic(program: str) -> str:
    """The subscription topic of one program."""
    return f"{TOPIC}:{program}"


@dataclass(frozen=True, slots=True)
class News:
    """A published version's totals per program beside those of the version it follows."""

    version: Version
    programs: list[Total]
    before: dict[str, Total]

    def changed(self) -> list[Total]:
        """The programs whose plan or execution differs from the version before (or is new)."""
        return [
            p
            for p in self.programs
            if p.key not in self.before
            or (self.before[p.key].planned, self.before[p.key].executed) != (p.planned, p.executed)
        ]


async def news_of(conn: aiosqlite.Connection, version_id: int) -> News | None:
    """The news of a published version, or None when there is no such version."""
    v = await budget.get(conn, version_id)
    if v is None:
        return None
    programs = await budget.program_totals(conn, v.id)
    previous = await budget.before_version(conn, v)
    before = {p.key: p for p in await budget.program_totals(conn, previous.id)} if previous else {}
    return News(v, programs, before)


def program_line(t: Translator, news: News, p: Total) -> str:
    """One followed program's new figures, its change in the plan, and whether it lags."""
    v = news.version
    if v.kind == "execution":
        figures = t.gettext(
            "{executed} of {planned} spent ({pct}%)",
            executed=millions(t, p.executed),
            planned=millions(t, p.planned),
            pct=per_cent(p.executed, p.planned),
        )
    else:
        figures = t.gettext("planned {planned}", planned=millions(t, p.planned))
    parts = [f"• {program_name(t, p.key)}: {figures}"]
    old = news.before.get(p.key)
    if old is not None and old.planned != p.planned:
        change = signed_millions(t, p.planned - old.planned)
        parts.append(t.gettext("the plan changed by {change}", change=change))
    if p in lagging(v, [p]):
        share = year_share(v.as_of, v.year)
        parts.append(t.gettext("behind the year ({share}% of it has passed)", share=share))
    return "; ".join(parts)


def render_for(
    t: Translator, name: str, news: News, *, whole: bool, programs: list[Total]
) -> Reply:
    """One follower's message: the whole budget's news if they follow it, then their programs."""
    v = news.version
    if whole:
        lines = [render_news(t, name, v, news.programs, news.before).text]
    else:
        lines = [
            t.gettext(
                "💰 The budget of {name} for {year} was updated: {kind} as of {date}.",
                name=name, year=v.year, kind=kind_name(t, v.kind),
                date=t.date(v.as_of),
            )
        ]  # fmt: skip
    if programs:
        lines.append(t.gettext("The programs you follow:"))
        lines += [program_line(t, news, p) for p in programs]
    return Reply("\n".join(lines))


Audience = tuple[bool, tuple[str, ...]]  # follows the whole budget; the changed programs followed


async def audiences(conn: aiosqlite.Connection, news: News) -> dict[Audience, list[Recipient]]:
    """The followers to tell, grouped by what their message says (nobody with nothing new)."""
    changed = [p.key for p in news.changed()]
    follows: dict[int, tuple[Recipient, set[str]]] = {}
    for user_id, channel, chat, language, topic in await subscriptions.reachable_with_parts(
        conn, TOPIC
    ):
        _recipient, topics = follows.setdefault(
            user_id, ((user_id, channel, chat, language), set())
        )
        topics.add(topic)
    groups: dict[Audience, list[Recipient]] = {}
    for recipient, topics in follows.values():
        mine = tuple(p for p in changed if program_topic(p) in topics)
        if TOPIC in topics or mine:
            groups.setdefault((TOPIC in topics, mine), []).append(recipient)
    return groups


def _groups(
    m: Municipality, news: News, by_audience: dict[Audience, list[Recipient]]
) -> list[tuple[list[Recipient], broadcast.Render]]:
    totals = {p.key: p for p in news.programs}

    def renderer(whole: bool, codes: tuple[str, ...]) -> broadcast.Render:
        programs = [totals[c] for c in codes]
        return lambda t: render_for(t, m.name_in(t.language), news, whole=whole, programs=programs)

    return [
        (recipients, renderer(whole, codes)) for (whole, codes), recipients in by_audience.items()
    ]


async def tell_followers(ctx: Context, version_id: int) -> Reply | None:
    """Queue the news of a published version to its followers; the admin's progress line."""
    news = await news_of(ctx.conn, version_id)
    if news is None:
        return None
    by_audience = await audiences(ctx.conn, news)
    if not by_audience:
        return None
    groups = _groups(ctx.municipality, news, by_audience)
    return await broadcast.start_groups(ctx, TOPIC, news.version.file_name, groups)


async def queue_news(
    conn: aiosqlite.Connection, m: Municipality, version_id: int, now: datetime
) -> int:
    """The same news queued from the command line (no admin to show progress to); how many."""
    news = await news_of(conn, version_id)
    if news is None:
        return 0
    by_audience = await audiences(conn, news)
    if not by_audience:
        return 0
    groups = _groups(m, news, by_audience)
    await broadcast.queue(conn, TOPIC, news.version.file_name, groups, now, None, zone=m.timezone)
    return sum(len(r) for r in by_audience.values())

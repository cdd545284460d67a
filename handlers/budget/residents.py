"""What residents see: the year's totals, revenue by source, spending by program, activities."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from handlers.budget import charts, consultation, pb
from handlers.budget.followers import program_topic
from handlers.budget.imports import kind_name
from handlers.budget.money import dinars, millions, per_cent
from handlers.budget.programs import PROGRAMS, program_name, revenue_group, revenue_group_name
from handlers.context import Context, Step, column
from handlers.events import Reply
from handlers.flow import ButtonData
from handlers.i18n import Translator
from handlers.menu import MenuState, main_menu_button, menu_reply
from storage import budget, subscriptions
from storage.budget import Total, Version


@dataclass(frozen=True, slots=True)
class ShowBudget(ButtonData):
    """A version's overview (the totals, revenue by source, spending by program)."""

    prefix = "bud"
    version_id: int


@dataclass(frozen=True, slots=True)
class ShowProgram(ButtonData):
    """One program of a version: its activities and projects."""

    prefix = "budp"
    version_id: int
    program: str


@dataclass(frozen=True, slots=True)
class FollowProgram(ButtonData):
    """Follow one program (or stop): told when a new version changes its figures."""

    prefix = "budf"
    version_id: int
    program: str


def _upper_first(text: str) -> str:
    """``text`` with a capital first letter (``str.capitalize`` would lower a month's: "1 dec")."""
    return text[:1].upper() + text[1:]


def as_of(t: Translator, v: Version) -> str:
    """The date a version's figures are of, as the reader writes it."""
    return t.date(v.as_of)


def share_line(ctx: Context, name: str, total: Total, whole: int) -> str:
    """ "Name: 48.2 million dinars (12%)"."""
    return f"• {name}: {millions(ctx.t, total.planned)} ({per_cent(total.planned, whole)}%)"


def revenue_line(ctx: Context, v: Version, name: str, total: Total, whole: int) -> str:
    """A source's share of the revenue, and in an execution report what came in so far."""
    line = share_line(ctx, name, total, whole)
    if v.kind != "execution":
        return line
    return (
        line
        + ", "
        + ctx.t.gettext(
            "collected {executed} ({pct}%)",
            executed=millions(ctx.t, total.executed),
            pct=per_cent(total.executed, total.planned),
        )
    )


def spent_words(ctx: Context, v: Version, planned: int, executed: int) -> str:
    """What was spent of the plan, in plain words, as of the version's date."""
    _ = ctx.t.gettext
    if v.kind != "execution":
        return _("Planned: {planned}.", planned=millions(ctx.t, planned))
    return _(
        "Of {planned} planned, {executed} ({pct}%) was spent by {date}.",
        planned=millions(ctx.t, planned),
        executed=millions(ctx.t, executed),
        pct=per_cent(executed, planned),
        date=as_of(ctx.t, v),
    )


async def overview(ctx: Context) -> Step:
    """The latest version of the budget: the main-menu entry."""
    v = await budget.latest(ctx.conn)
    if v is None:
        text = ctx.t.gettext("The municipality has not published its budget here yet.")
        lines, choices = await consultation.overview_part(ctx)
        choices += await pb.overview_part(ctx)
        if choices:  # a consultation on the first budget here
            reply = Reply("\n".join([text, *lines]), column([*choices, main_menu_button(ctx)]))
            return Step(MenuState.MAIN, {}, [reply])
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])
    return await show_version(ctx, v)


async def show(ctx: Context, press: ShowBudget) -> Step | None:
    """A version's overview from its button."""
    v = await budget.get(ctx.conn, press.version_id)
    return await show_version(ctx, v) if v is not None else None


async def show_version(ctx: Context, v: Version) -> Step:
    """The totals, revenue by source and spending by program, each program a button."""
    _ = ctx.t.gettext
    programs = await budget.program_totals(ctx.conn, v.id)
    revenue = await budget.revenue_totals(ctx.conn, v.id)
    planned = sum(p.planned for p in programs)
    executed = sum(p.executed for p in programs)
    text = [
        _(
            "Budget of {name} for {year}",
            name=ctx.municipality.name_in(ctx.t.language),
            year=v.year,
        ),
        _upper_first(_("{kind} as of {date}", kind=kind_name(ctx.t, v.kind), date=as_of(ctx.t, v))),
        "",
        spent_words(ctx, v, planned, executed),
    ]
    text += await _beside(ctx, v, planned)
    text += ["", _("Revenue by source:")]
    text += [
        revenue_line(ctx, v, revenue_group_name(ctx.t, key), total, sum(r.planned for r in revenue))
        for key, total in _by_group(revenue)
    ]
    text += ["", _("Spending by program:")]
    text += [share_line(ctx, program_name(ctx.t, p.key), p, planned) for p in programs]
    consult_lines, consult_choices = await consultation.overview_part(ctx)
    consult_choices += await pb.overview_part(ctx)
    text += ["", *consult_lines, _("Choose a program to see its activities and projects.")]
    choices = [
        ShowProgram(v.id, p.key).button(
            f"{program_name(ctx.t, p.key)} ({per_cent(p.executed, p.planned)}%)"
        )
        if v.kind == "execution"
        else ShowProgram(v.id, p.key).button(program_name(ctx.t, p.key))
        for p in programs
    ]
    reply = Reply(
        "\n".join(text),
        column([*consult_choices, *choices, main_menu_button(ctx)]),
        chart=charts.spending(ctx.t, v, programs),
    )
    return Step(MenuState.MAIN, {}, [reply])


async def _beside(ctx: Context, v: Version, planned: int) -> list[str]:
    """Per resident, and the previous year beside this one where it was imported."""
    _ = ctx.t.gettext
    lines = []
    population = ctx.municipality.population
    if population:
        per_resident = dinars(ctx.t, planned // population)
        lines.append(_("That is {amount} dinars per resident.", amount=per_resident))
    last_year = await budget.latest(ctx.conn, v.year - 1)
    if last_year is not None:
        before = sum(p.planned for p in await budget.program_totals(ctx.conn, last_year.id))
        lines.append(_("In {year}: {amount}.", year=last_year.year, amount=millions(ctx.t, before)))
    return lines


def _by_group(revenue: list[Total]) -> list[tuple[str, Total]]:
    planned: dict[str, int] = defaultdict(int)
    executed: dict[str, int] = defaultdict(int)
    for r in revenue:
        planned[revenue_group(r.key)] += r.planned
        executed[revenue_group(r.key)] += r.executed
    groups = [(g, Total(g, "", planned[g], executed[g])) for g in planned]
    return sorted(groups, key=lambda x: -x[1].planned)


async def show_program(ctx: Context, press: ShowProgram, note: str | None = None) -> Step | None:
    """A program's activities and projects with plan, executed so far and per cent."""
    v = await budget.get(ctx.conn, press.version_id)
    if v is None:
        return None
    activities = await budget.activity_totals(ctx.conn, v.id, press.program)
    if not activities:
        return None
    _ = ctx.t.gettext
    planned = sum(a.planned for a in activities)
    executed = sum(a.executed for a in activities)
    text = [*([note, ""] if note else [])]
    text += [
        f"{press.program} {program_name(ctx.t, press.program)} ({v.year})",
        spent_words(ctx, v, planned, executed),
    ]
    text += await _program_last_year(ctx, v, press.program)
    text.append("")
    for a in activities:
        line = f"• {ctx.t.name(a.name)} ({a.key}): {millions(ctx.t, a.planned)}"
        if v.kind == "execution":
            line += ", " + _(
                "spent {executed} ({pct}%)",
                executed=millions(ctx.t, a.executed),
                pct=per_cent(a.executed, a.planned),
            )
        text.append(line)
    following = program_topic(press.program) in await subscriptions.topics_of(ctx.conn, ctx.user.id)
    follow = FollowProgram(v.id, press.program).button(
        _("🔕 Stop following this program") if following else _("🔔 Follow this program")
    )
    back = ShowBudget(v.id).button(_("↩️ The whole budget"))
    choices = column([follow, back, main_menu_button(ctx)])
    chart = charts.activities(ctx.t, v, press.program, activities)
    return Step(MenuState.MAIN, {}, [Reply("\n".join(text), choices, chart=chart)])


async def follow_program(ctx: Context, press: FollowProgram) -> Step | None:
    """Follow the program, or stop following it; the program again with what was done."""
    if press.program not in PROGRAMS or await budget.get(ctx.conn, press.version_id) is None:
        return None
    on = await subscriptions.toggle(ctx.conn, ctx.user.id, program_topic(press.program), ctx.now)
    name = program_name(ctx.t, press.program)
    if on:
        note = ctx.t.gettext(
            "You follow {program}: when a new execution report or rebalance changes its figures,"
            " you will be told.",
            program=name,
        )
    else:
        note = ctx.t.gettext("You no longer follow {program}.", program=name)
    return await show_program(ctx, ShowProgram(press.version_id, press.program), note)


async def _program_last_year(ctx: Context, v: Version, program: str) -> list[str]:
    last_year = await budget.latest(ctx.conn, v.year - 1)
    if last_year is None:
        return []
    before = sum(a.planned for a in await budget.activity_totals(ctx.conn, last_year.id, program))
    if not before:
        return []
    return [
        ctx.t.gettext("In {year}: {amount}.", year=last_year.year, amount=millions(ctx.t, before))
    ]

"""Residents read the plan: the commitments, a measure, its history; and follow a measure."""

from __future__ import annotations

from handlers.context import Context, Step, column
from handlers.events import Reply
from handlers.menu import MenuState, main_menu_button
from handlers.plan import chat_import, views
from handlers.plan.buttons import (
    CommentOnMeasure,
    FollowMeasure,
    MeasureHistory,
    MoreActivities,
    MoreCommitments,
    OpenPlan,
    ShowMeasure,
    ShowPlan,
)
from handlers.plan.config import published_measure
from handlers.plan.progress import Plan
from storage import plan as store
from storage.plan import Measure

MAX_PLAN_LABEL = 60
# Measures on one screen, then "More": Viber refuses a keyboard of over 24 buttons, and a
# measure's screen has up to 7 more (history, comment, follow, up, the plan, the menu, more).
PER_SCREEN = 15


async def choose_plan(ctx: Context, press: ShowPlan | None = None) -> Step:
    """ "Action plan": the only plan at once; with several, first the choice of plan."""
    del press
    plans = ctx.municipality.plan
    if not plans.several:
        return await show_plan(ctx, plans.default)
    _ = ctx.t.gettext
    choices = [OpenPlan(p.id).button(_cut(p.title_in(ctx.t), MAX_PLAN_LABEL)) for p in plans.plans]
    text = _("The municipality publishes these plans. Which one would you like to see?")
    return Step(MenuState.MAIN, {}, [Reply(text, column([*choices, main_menu_button(ctx)]))])


async def open_one(ctx: Context, press: OpenPlan) -> Step | None:
    """One of the plans the municipality file names (a plan it names no more: the hint)."""
    if ctx.municipality.plan.get(press.plan) is None:
        return None
    return await show_plan(ctx, press.plan)


def _screen(measures: list[Measure], start: int) -> tuple[list[Measure], int]:
    """The measures from ``start`` that fit on a screen, and how many are left after them."""
    start = start if 0 <= start < len(measures) else 0
    shown = measures[start : start + PER_SCREEN]
    return shown, len(measures) - start - len(shown)


def _more(ctx: Context, left: int) -> str:
    return ctx.t.gettext("➡️ More ({n})", n=left)


async def show_plan(ctx: Context, plan_id: str, start: int = 0) -> Step:
    """A plan's commitments with their progress bars, each opening its measures."""
    _ = ctx.t.gettext
    plans = ctx.municipality.plan
    info = plans.get(plan_id)
    title = info.title_in(ctx.t) if info else ""
    plan = Plan(await store.all_measures(ctx.conn, plan_id))
    back = [ShowPlan().button(_("↩️ All plans"))] if plans.several else []
    if not plan.roots:
        text = _("The municipality has not published its action plan here yet.")
        return Step(MenuState.MAIN, {}, [Reply(text, column([*back, main_menu_button(ctx)]))])
    text = views.overview(ctx.t, plan, title, example=bool(info and info.example))
    shown, left = _screen(plan.roots, start)
    choices = [ShowMeasure(m.id).button(views.child_label(ctx.t, plan, m)) for m in shown]
    if left:
        choices.append(MoreCommitments(plan_id, start + len(shown)).button(_more(ctx, left)))
    keys = column([*choices, *back, main_menu_button(ctx)])
    chart = views.plan_chart(ctx.t, plan, title) if shown[:1] == plan.roots[:1] else None
    return Step(MenuState.MAIN, {}, [Reply(text, keys, chart=chart)])


async def more_commitments(ctx: Context, press: MoreCommitments) -> Step | None:
    """The next screen of a plan's commitments."""
    if ctx.municipality.plan.get(press.plan) is None:
        return None
    return await show_plan(ctx, press.plan, press.start)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def show_measure(ctx: Context, press: ShowMeasure, start: int = 0) -> Step | None:
    """One measure: progress, status, dates, milestones; its activities, history and Follow."""
    plan = Plan(await store.all_measures(ctx.conn))  # one query; the tree is found by id
    m = plan.by_id.get(press.measure_id)
    if m is None or ctx.municipality.plan.get(m.plan) is None:  # a plan taken out of the file
        return None
    _ = ctx.t.gettext
    milestones = await store.milestones(ctx.conn, m.id)
    following = await store.is_following(ctx.conn, m.id, ctx.user.id)
    shown, left = _screen(plan.children(m.id), start)
    choices = [ShowMeasure(c.id).button(views.child_label(ctx.t, plan, c)) for c in shown]
    if left:
        choices.append(MoreActivities(m.id, start + len(shown)).button(_more(ctx, left)))
    choices.append(MeasureHistory(m.id).button(_("🕘 History")))
    choices.append(CommentOnMeasure(m.id).button(_("💬 Comment or question")))
    choices.append(
        FollowMeasure(m.id).button(_("🔕 Stop following") if following else _("🔔 Follow"))
    )
    parent = plan.by_id.get(m.parent_id) if m.parent_id is not None else None
    if parent is not None:
        choices.append(ShowMeasure(parent.id).button(f"⬆️ {views.heading(ctx.t, parent)}"[:60]))
    choices += [OpenPlan(m.plan).button(_("🎯 Action plan")), main_menu_button(ctx)]
    text = views.details(ctx.t, plan, m, milestones)
    return Step(MenuState.MAIN, {}, [Reply(text, column(choices))])


async def more_activities(ctx: Context, press: MoreActivities) -> Step | None:
    """The next screen of a measure's activities."""
    return await show_measure(ctx, ShowMeasure(press.measure_id), press.start)


async def show_history(ctx: Context, press: MeasureHistory) -> Step | None:
    """A measure's changes, each with who made it and when."""
    m = await published_measure(ctx.conn, ctx.municipality.plan, press.measure_id)
    if m is None:
        return None
    _ = ctx.t.gettext
    events = await store.history(ctx.conn, m.id)
    lines = [views.event_line(ctx.t, e) for e in events] or [_("No changes yet.")]
    text = _("History of {measure}:", measure=views.heading(ctx.t, m)) + "\n\n" + "\n".join(lines)
    back = ShowMeasure(m.id).button(_("↩️ Back to the measure"))
    return Step(MenuState.MAIN, {}, [Reply(text, column([back, main_menu_button(ctx)]))])


async def follow(ctx: Context, press: FollowMeasure) -> Step | None:
    """Follow a measure (its activities too), or stop following it."""
    m = await published_measure(ctx.conn, ctx.municipality.plan, press.measure_id)
    if m is None:
        return None
    _ = ctx.t.gettext
    now_following = await store.toggle_follow(ctx.conn, m.id, ctx.user.id, ctx.now)
    title = views.with_plan(ctx.t, ctx.municipality.plan, m)
    if now_following:
        text = _("You follow {measure}: you will be told of every change.", measure=title)
    else:
        text = _("You no longer follow {measure}.", measure=title)
    back = ShowMeasure(m.id).button(_("↩️ Back to the measure"))
    return Step(MenuState.MAIN, {}, [Reply(text, column([back, main_menu_button(ctx)]))])


async def open_plan(ctx: Context) -> Step:
    """The main menu's "Action plan"."""
    return await choose_plan(ctx)


async def plan_command(ctx: Context, args: str = "") -> Step:
    """/plan: the action plan; ``/plan import [PLAN]``: an admin sends the plan file."""
    word, _sep, rest = args.strip().partition(" ")
    if word.lower() == "import":
        return chat_import.start(ctx, rest.strip())
    return await choose_plan(ctx)

"""Staff update the plan in chat: ``/measure ID progress|milestone|status ...``.

Each change is an event with who and when, and the measure's followers are told. Who may change
a measure is checked when they act: an admin, or an operator of the measure's service.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.context import Context, Step, buttons
from handlers.events import Reply
from handlers.i18n import Translator
from handlers.plan.buttons import ShowMeasure
from handlers.plan.model import STATUS_NAMES
from handlers.plan.notices import Say, tell_followers
from handlers.plan.progress import Plan
from handlers.plan.views import day, with_plan
from handlers.texts import N_
from storage import plan as store
from storage.plan import Measure

MAX_NOTE = 500
USAGE = N_(
    "Usage:\n/measure ID progress 60 NOTE\n/measure ID milestone N NOTE (reached)\n"
    "/measure ID milestone add DD.MM.YYYY TEXT\n/measure ID status STATUS REASON\n"
    "Statuses: not_started, in_progress, done, late, dropped.\n"
    "ID is the measure's key (1.2); where plans share a key, PLAN:KEY (such as lap:1.2)."
)
# Staff may write a status in English or in Serbian (Latin, without diacritics).
STATUS_WORDS = {
    **{s: s for s in STATUS_NAMES},
    "nije_pocelo": "not_started", "u_toku": "in_progress", "zavrseno": "done",
    "zavrsena": "done", "kasni": "late", "odustato": "dropped",
}  # fmt: skip
NEEDS_REASON = ("late", "dropped")


class UsageError(Exception):
    """The command's arguments do not say a change; ``message`` is a msgid."""

    def __init__(self, message: str = USAGE, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


async def measure_command(ctx: Context, args: str) -> Step:
    """/measure ID progress|milestone|status ...: one change of a measure."""
    t = ctx.t
    key, _sep, rest = args.strip().partition(" ")
    action, _sep, rest = rest.strip().partition(" ")
    found = await find_measures(ctx, key) if key else []
    if not found or action not in ("progress", "milestone", "status"):
        return _answer(ctx, t.gettext(USAGE))
    # Who may change it first: the plans that share a key are named only to those who may act.
    mine = [x for x in found if may_change(ctx, x)]
    if not mine:
        return _answer(ctx, t.gettext("Only an admin or the measure's service may change it."))
    if len(found) > 1:
        named = ", ".join(f"/measure {x.plan}:{x.key}" for x in mine)
        text = t.gettext("Several plans have a measure {key}; name its plan: {named}",
                         key=key, named=named)  # fmt: skip
        return _answer(ctx, text)
    (m,) = mine
    plan = Plan(await store.all_measures(ctx.conn, m.plan))
    try:
        if action == "progress":
            return await set_progress(ctx, plan, m, rest)
        if action == "milestone":
            return await milestone(ctx, plan, m, rest)
        return await set_status(ctx, plan, m, rest)
    except UsageError as e:
        return _answer(ctx, t.gettext(e.message, **e.params))


async def find_measures(ctx: Context, written: str) -> list[Measure]:
    """The measures that ``KEY`` or ``PLAN:KEY`` names, of the plans the file publishes.

    A key without a plan is unambiguous only when one plan has it; otherwise all are returned
    and the staff member is asked to name the plan.
    """
    plans = ctx.municipality.plan
    plan_id, colon, key = written.rpartition(":")
    if colon and plans.get(plan_id) is None:
        return []
    found = await store.by_key(ctx.conn, key, plan_id if colon else None)
    order = [p.id for p in plans.plans]  # in the file's order
    return sorted((m for m in found if m.plan in order), key=lambda m: order.index(m.plan))


def may_change(ctx: Context, m: Measure) -> bool:
    """An admin, or an operator of the measure's service (checked at the moment of acting)."""
    return ctx.user.role == "admin" or (m.service is not None and ctx.user.may_act_for(m.service))


def _answer(ctx: Context, text: str) -> Step:
    return Step(ctx.state, ctx.draft, [Reply(text)])


def parse_percent(raw: str) -> int:
    """A whole per cent from 0 to 100 (``60`` or ``60%``).

    Raises:
        UsageError: it is not one.
    """
    text = raw.strip().removesuffix("%")
    if not (text.isascii() and text.isdigit()) or int(text) > 100:
        raise UsageError(N_("The progress is a whole number from 0 to 100, such as 60."))
    return int(text)


async def set_progress(ctx: Context, plan: Plan, m: Measure, rest: str) -> Step:
    """/measure ID progress 60 NOTE (an activity's; a commitment's is computed)."""
    if plan.is_parent(m.id):
        raise UsageError(N_("The progress of {key} is computed from its activities."), key=m.key)
    raw, _sep, note = rest.partition(" ")
    value = parse_percent(raw)
    status = m.status
    if value == 100:
        status = "done"
    elif value > 0 and status == "not_started":
        status = "in_progress"
    if value == m.progress and status == m.status:
        return _answer(ctx, ctx.t.gettext("Nothing changed: {key} is at {n}%.", key=m.key, n=value))
    note_text = note.strip()[:MAX_NOTE] or None
    await _change(ctx, m, status=status, progress=value)
    if value != m.progress:
        await store.add_event(ctx.conn, m.id, ctx.user.id, "progress", m.progress, value,
                              note_text, ctx.now)  # fmt: skip
    if status != m.status:
        await store.add_event(
            ctx.conn, m.id, ctx.user.id, "status", m.status, status, None, ctx.now
        )
    old, old_status = m.progress, m.status

    def say(t: Translator) -> str:
        line = t.gettext("Progress: {old}% → {new}%", old=old, new=value)
        if status != old_status:
            line += "\n" + _status_change(t, old_status, status)
        return line + (f"\n{note_text}" if note_text else "")

    return await _done(ctx, m, say)


async def milestone(ctx: Context, plan: Plan, m: Measure, rest: str) -> Step:
    """/measure ID milestone N NOTE (reached) or /measure ID milestone add DATE TEXT."""
    first, _sep, more = rest.strip().partition(" ")
    if first == "add":
        return await add_milestone(ctx, m, more)
    if not (first.isascii() and first.isdigit()):
        raise UsageError
    found = {x.position: x for x in await store.milestones(ctx.conn, m.id)}
    target = found.get(int(first))
    if target is None:
        raise UsageError(N_("{key} has no milestone {n}."), key=m.key, n=first[:6])
    today = ctx.now.astimezone(ZoneInfo(ctx.municipality.timezone)).date()
    if not await store.reach_milestone(ctx.conn, m.id, target.position, today):
        return _answer(ctx, ctx.t.gettext("That milestone was already reached."))
    note_text = more.strip()[:MAX_NOTE] or None
    await store.add_event(ctx.conn, m.id, ctx.user.id, "milestone", target.position, target.text,
                          note_text, ctx.now)  # fmt: skip
    del plan

    def say(t: Translator) -> str:
        line = t.gettext("Milestone reached: {text}", text=t.name(target.text))
        return line + (f"\n{note_text}" if note_text else "")

    return await _done(ctx, m, say)


async def add_milestone(ctx: Context, m: Measure, rest: str) -> Step:
    """/measure ID milestone add DD.MM.YYYY TEXT: a new milestone (no notice: nothing happened)."""
    raw, _sep, text = rest.strip().partition(" ")
    due = parse_day(raw)
    if due is None or not text.strip():
        raise UsageError(N_("Write the milestone as: /measure ID milestone add 30.06.2026 TEXT"))
    number = await store.add_milestone(ctx.conn, m.id, due, text.strip()[:MAX_NOTE])
    answer = ctx.t.gettext("Milestone {n} of {key} added: {date} {text}", n=number, key=m.key,
                           date=day(ctx.t, due), text=text.strip()[:MAX_NOTE])  # fmt: skip
    return _answer(ctx, answer)


def parse_day(raw: str) -> date | None:
    """A date written 30.06.2026 (or 30.06.2026.)."""
    try:
        return datetime.strptime(raw.strip().rstrip("."), "%d.%m.%Y").date()  # noqa: DTZ007
    except ValueError:
        return None


async def set_status(ctx: Context, plan: Plan, m: Measure, rest: str) -> Step:
    """/measure ID status STATUS REASON (late and dropped need a reason)."""
    word, _sep, reason = rest.strip().partition(" ")
    status = STATUS_WORDS.get(word.lower())
    if status is None:
        raise UsageError(N_("Unknown status «{value}»; one of: not_started, in_progress, done,"
                            " late, dropped."), value=word[:30])  # fmt: skip
    reason_text = reason.strip()[:MAX_NOTE] or None
    if status in NEEDS_REASON and reason_text is None:
        raise UsageError(N_("Please give the reason: /measure ID status {status} REASON"),
                         status=word[:30])  # fmt: skip
    if status == m.status:
        return _answer(ctx, ctx.t.gettext("Nothing changed: that is its status already."))
    progress = 100 if status == "done" and not plan.is_parent(m.id) else m.progress
    await _change(ctx, m, status=status, progress=progress)
    await store.add_event(ctx.conn, m.id, ctx.user.id, "status", m.status, status, reason_text,
                          ctx.now)  # fmt: skip
    if progress != m.progress:
        await store.add_event(ctx.conn, m.id, ctx.user.id, "progress", m.progress, progress,
                              None, ctx.now)  # fmt: skip
    old_status = m.status

    def say(t: Translator) -> str:
        line = _status_change(t, old_status, status)
        return line + (f"\n{reason_text}" if reason_text else "")

    return await _done(ctx, m, say)


def _status_change(t: Translator, old: str, new: str) -> str:
    return t.gettext(
        "Status: {old} → {new}",
        old=t.gettext(STATUS_NAMES.get(old, old)),
        new=t.gettext(STATUS_NAMES.get(new, new)),
    )


async def _change(ctx: Context, m: Measure, *, status: str, progress: int) -> None:
    # Set late by hand: the date already passed is noticed, the job does not tell it again.
    late_for = m.ends_on if status == "late" else None
    if not await store.change(
        ctx.conn, m, status=status, progress=progress, now=ctx.now, late_for=late_for
    ):
        raise UsageError(N_("Someone changed {key} at the same moment; please look again."),
                         key=m.key)  # fmt: skip


async def _done(ctx: Context, m: Measure, say: Say) -> Step:
    """Confirm to the staff member and tell the followers (the plan as it is now)."""
    plans = ctx.municipality.plan
    plan = Plan(await store.all_measures(ctx.conn, m.plan))
    now = plan.by_id.get(m.id, m)
    saved = ctx.t.gettext("Saved: {measure}", measure=with_plan(ctx.t, plans, now))
    show = buttons([ShowMeasure(m.id).button(ctx.t.gettext("Show the measure"))])
    step = Step(ctx.state, ctx.draft, [Reply(saved + "\n" + say(ctx.t), show)])
    step.outgoing = await tell_followers(ctx.conn, plan, now, say, plans, skip_user=ctx.user.id)
    return step

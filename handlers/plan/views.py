"""How the plan reads in chat: the commitments with their bars, a measure, its history."""

from __future__ import annotations

from datetime import date

from handlers.events import MAX_CHART_BARS, Chart
from handlers.i18n import Translator
from handlers.plan.config import PlanSection
from handlers.plan.model import STATUS_ICONS, STATUS_NAMES
from handlers.plan.progress import Plan, bar, percent
from storage.plan import Event, Measure, Milestone

MAX_DESCRIPTION = 1500  # a reply stays well under Telegram's 4,096 characters
MAX_TITLE = 300
MAX_EVENT_TEXT = 300
MAX_CHART_LABEL = 60  # the picture wraps a label; a long commitment is cut


def day(t: Translator, d: date | None) -> str:
    """A date as the reader writes it (a dash when there is none)."""
    return t.date(d) if d else "—"


def status_line(t: Translator, status: str) -> str:
    """The status with its icon."""
    return f"{STATUS_ICONS.get(status, '')} {t.gettext(STATUS_NAMES.get(status, status))}"


def heading(t: Translator, m: Measure) -> str:
    """``1.2. Title``, in the reader's script."""
    return f"{m.key}. {t.name(m.title[:MAX_TITLE])}"


def with_plan(t: Translator, plans: PlanSection, m: Measure) -> str:
    """The heading, and the plan's title when the municipality publishes several."""
    if not plans.several:
        return heading(t, m)
    return f"{heading(t, m)} — {plans.title_of(t, m.plan)[:MAX_TITLE]}"


def overview(t: Translator, plan: Plan, title: str, *, example: bool) -> str:
    """The commitments, each with its progress bar and status."""
    lines = [f"📋 {t.name(title)}" if title else t.gettext("📋 The action plan")]
    if example:
        lines.append(t.gettext("(An example plan, to be checked by the municipality.)"))
    for m in plan.roots:
        lines.append(f"\n{heading(t, m)}\n{bar(plan.progress(m.id))} · {status_line(t, m.status)}")
    return "\n".join(lines)


def details(t: Translator, plan: Plan, m: Measure, milestones: list[Milestone]) -> str:
    """A measure: its progress, status, dates, who is responsible, milestones."""
    lines = [heading(t, m), f"{bar(plan.progress(m.id))} · {status_line(t, m.status)}"]
    if plan.is_parent(m.id):
        lines.append(t.gettext("(computed from its activities below)"))
    if m.description:
        lines.append("\n" + t.name(m.description[:MAX_DESCRIPTION]))
    lines.append("")
    if m.responsible:
        lines.append(t.gettext("Responsible: {who}", who=t.name(m.responsible[:MAX_TITLE])))
    lines.append(
        t.gettext("Period: {start} – {end}", start=day(t, m.starts_on), end=day(t, m.ends_on))
    )
    if milestones:
        lines.append("\n" + t.gettext("Milestones:"))
        lines.extend(milestone_line(t, x) for x in milestones)
    return "\n".join(lines)


def milestone_line(t: Translator, x: Milestone) -> str:
    """``✅ 1. Text (due DATE)``: the number by its text, as a Serbian date also ends in ``.``."""
    mark = "✅" if x.done_on else "⬜"
    text = t.name(x.text[:MAX_TITLE])
    if x.due_on is None:
        return f"{mark} {x.position}. {text}"
    line = t.gettext("{number}. {text} (due {date})", number=x.position, text=text,
                     date=t.date(x.due_on))  # fmt: skip
    return f"{mark} {line}"


def child_label(t: Translator, plan: Plan, m: Measure) -> str:
    """A button to one activity: its key, title and per cent."""
    title = t.name(m.title)
    short = title if len(title) <= 40 else title[:39] + "…"
    return f"{m.key}. {short} ({percent(plan.progress(m.id))}%)"


def event_line(t: Translator, e: Event) -> str:
    """One change as the history shows it: when, who, what."""
    when = t.datetime(e.at)
    who = e.actor or t.gettext("municipality")
    match e.kind:
        case "progress":
            what = t.gettext("progress {old}% → {new}%", old=e.old, new=e.new)
        case "milestone":
            what = t.gettext("milestone reached: {text}", text=t.name(e.new or ""))
        case "status":
            what = t.gettext(
                "status: {old} → {new}",
                old=t.gettext(STATUS_NAMES.get(e.old or "", e.old or "")),
                new=t.gettext(STATUS_NAMES.get(e.new or "", e.new or "")),
            )
        case _:
            ended = day(t, date.fromisoformat(e.old) if e.old else None)
            what = t.gettext("the end date {date} passed before it was done: marked late",
                             date=ended)  # fmt: skip
            who = t.gettext("automatically")
    # Staff's own words are never transliterated.
    note = f" — {e.text[:MAX_EVENT_TEXT]}" if e.text else ""
    return f"{when} · {who}: {what}{note}"


def plan_chart(t: Translator, plan: Plan, title: str) -> Chart:
    """The picture of the whole plan: each commitment's progress in per cent."""
    roots = plan.roots[:MAX_CHART_BARS]
    values = tuple(float(percent(plan.progress(m.id))) for m in roots)
    labels = tuple(_cut(heading(t, m), MAX_CHART_LABEL) for m in roots)
    return Chart(
        title=t.name(title) if title else t.gettext("The action plan"),
        labels=labels,
        values=values,
        value_labels=tuple(f"{int(v)}%" for v in values),
        unit="%",
        maximum=100,
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

"""The admin's import of the action plan in chat: send the file, see what it changes, confirm."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from handlers import engine
from handlers.context import Context, Deps, Lookup, Step, buttons
from handlers.events import File, Inbound, Reply
from handlers.file_problems import undelivered_text
from handlers.flow import PreviewDecision, Role
from handlers.menu import MenuState, menu_reply
from handlers.plan.comments import PlanState
from handlers.plan.importer import PlanFileError, check_rows, read_rows
from handlers.plan.imports import import_plan
from storage import plan as store
from storage.plan import NewMeasure, NewMilestone

PREVIEW_MEASURES = 8
IMPORT_STATES = frozenset({PlanState.IMPORT, PlanState.IMPORT_CONFIRM})


@dataclass(frozen=True, slots=True)
class PlanImportDecision(PreviewDecision):
    """Store the previewed plan (``ok``) or drop it (``cancel``)."""

    prefix = "planimp"
    role = Role.ADMIN


def start(ctx: Context, plan_id: str = "") -> Step:
    """/plan import [PLAN]: ask for the file (admins only: an import may change every measure).

    Rows that name no plan go to PLAN, or to the default plan when none is given.
    """
    if not Role.ADMIN.admits(ctx.user):
        return engine.refuse(ctx, "/plan import")
    plans = ctx.municipality.plan
    plan_id = plan_id or plans.default
    info = plans.get(plan_id)
    if info is None:
        known = ", ".join(p.id for p in plans.plans)
        text = ctx.t.gettext("No plan has the id «{value}»; the plans: {known}",
                             value=plan_id[:30], known=known)  # fmt: skip
        return engine.stay(ctx, [Reply(text)])
    text = ctx.t.gettext(
        "Send the action plan file as a document (CSV or XLSX, in the format of the README)."
        " (/cancel to stop)"
    )
    if plans.several:
        text += "\n" + ctx.t.gettext(
            "Rows without a plan column go to {plan} ({id}).", plan=info.title_in(ctx.t),
            id=info.id,
        )  # fmt: skip
    return Step(PlanState.IMPORT, {"plan": info.id}, [Reply(text)])


async def read_file(deps: Deps, event: Inbound) -> Lookup | None:
    """Read the sent file's rows before the transaction (they are checked in it, where the plan
    of rows that name none is known: it is in the draft)."""
    if not isinstance(event, File):
        return None
    if event.content is None:
        return Lookup("undelivered", {"size": event.size})
    name = event.name or "plan"
    try:
        # Off the event loop: a 5 MB file takes seconds to parse, and everyone else waits.
        rows = await asyncio.to_thread(read_rows, name, event.content)
    except PlanFileError as e:
        return Lookup("refused", {"error": e})
    return Lookup("read", {"name": name, "rows": rows})


async def receive(ctx: Context, event: File) -> Step:
    """Show what the file adds and changes, and ask to confirm; or why it was refused."""
    del event
    _ = ctx.t.gettext
    found = ctx.lookup or Lookup("undelivered", {"size": 0})
    if found.outcome == "undelivered":
        return engine.stay(ctx, [Reply(undelivered_text(ctx.t, int(found.data["size"])))])
    if found.outcome == "refused":
        return _refused(ctx, found.data["error"])
    plan_id = str(ctx.draft.get("plan") or ctx.municipality.plan.default)
    services = set(ctx.municipality.services)
    try:
        measures = check_rows(
            found.data["name"], found.data["rows"], services, ctx.municipality.plan, plan_id
        )
    except PlanFileError as e:
        return _refused(ctx, e)
    known = {(m.plan, m.key) for m in await store.all_measures(ctx.conn)}
    new = [m for m in measures if (m.plan, m.key) not in known]
    summary = ctx.t.ngettext(
        "{name}: {n} measure read, {new} new, {known} already in the plan (updated).",
        "{name}: {n} measures read, {new} new, {known} already in the plan (updated).",
        len(measures),
        name=found.data["name"],
        new=len(new),
        known=len(measures) - len(new),
    )
    several = ctx.municipality.plan.several
    shown = "\n".join(
        f"{'✏️' if (m.plan, m.key) in known else '🆕'} {f'{m.plan}:' if several else ''}{m.key}"
        f" {m.title}"
        for m in measures[:PREVIEW_MEASURES]
    )
    draft = {
        "name": found.data["name"],
        "plan": plan_id,
        "measures": [to_plain(m) for m in measures],
    }
    keys = buttons(
        [
            PlanImportDecision.under("ok", draft).button(_("✅ Import")),
            PlanImportDecision.under("cancel", draft).button(_("✖️ Cancel")),
        ]
    )
    return Step(PlanState.IMPORT_CONFIRM, draft, [Reply(f"{summary}\n\n{shown}", keys)])


def _refused(ctx: Context, error: PlanFileError) -> Step:
    problems = "\n".join(error.render(ctx.t))
    text = ctx.t.gettext("Nothing was imported. Correct the file and send it again:")
    return engine.stay(ctx, [Reply(text + "\n" + problems)])


async def decide(ctx: Context, press: PlanImportDecision) -> Step | None:
    """Store the previewed plan and tell the followers of what changed, or drop it."""
    _ = ctx.t.gettext
    if press.action == "cancel":
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, _("Cancelled."))])
    if press.action != "ok" or "measures" not in ctx.draft:
        return None
    measures = [from_plain(m) for m in ctx.draft["measures"]]  # each in its plan already
    changed, told = await import_plan(
        ctx.conn, str(ctx.draft["name"]), measures, ctx.now, ctx.municipality.plan
    )
    text = ctx.t.gettext(
        "Imported: {n} measures; changed: {changed}; followers told: {told}.",
        n=len(measures),
        changed=changed,
        told=len(told),
    )
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)], told)


def to_plain(m: NewMeasure) -> dict[str, Any]:
    """A measure as the JSON of a draft."""
    return {
        "plan": m.plan, "key": m.key, "parent_key": m.parent_key, "title": m.title,
        "description": m.description, "responsible": m.responsible, "service": m.service,
        "starts_on": _day(m.starts_on), "ends_on": _day(m.ends_on), "status": m.status,
        "progress": m.progress, "weight": m.weight,
        "milestones": [[_day(s.due_on), s.text, s.done] for s in m.milestones],
    }  # fmt: skip


def from_plain(data: dict[str, Any]) -> NewMeasure:
    """The measure a draft keeps."""
    milestones = tuple(
        NewMilestone(_date(due), str(text), bool(done)) for due, text, done in data["milestones"]
    )
    fields = {k: v for k, v in data.items() if k != "milestones"}
    measure = NewMeasure(**fields)
    return replace(
        measure,
        starts_on=_date(data["starts_on"]),
        ends_on=_date(data["ends_on"]),
        milestones=milestones,
    )


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None

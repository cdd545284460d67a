"""The admin's import of the action plan in chat: send the file, see what it changes, confirm."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from handlers import engine
from handlers.context import Context, Deps, Lookup, Step, buttons
from handlers.events import File, Inbound, Reply
from handlers.file_problems import undelivered_text
from handlers.flow import ButtonData, Role
from handlers.menu import MenuState, menu_reply
from handlers.plan.comments import PlanState
from handlers.plan.importer import PlanFileError, read_plan
from handlers.plan.imports import import_plan
from storage import plan as store
from storage.plan import NewMeasure, NewMilestone

PREVIEW_MEASURES = 8
IMPORT_STATES = frozenset({PlanState.IMPORT, PlanState.IMPORT_CONFIRM})


@dataclass(frozen=True, slots=True)
class PlanImportDecision(ButtonData):
    """Store the previewed plan (``ok``) or drop it (``cancel``)."""

    prefix = "planimp"
    role = Role.ADMIN
    action: str


def start(ctx: Context) -> Step:
    """/plan import: ask for the file (admins only: an import may change every measure)."""
    if not Role.ADMIN.admits(ctx.user):
        return engine.refuse(ctx, "/plan import")
    text = ctx.t.gettext(
        "Send the action plan file as a document (CSV or XLSX, in the format of the README)."
        " (/cancel to stop)"
    )
    return Step(PlanState.IMPORT, {}, [Reply(text)])


async def read_file(deps: Deps, event: Inbound) -> Lookup | None:
    """Check the sent file whole before the transaction."""
    if not isinstance(event, File):
        return None
    if event.content is None:
        return Lookup("undelivered", {"size": event.size})
    name = event.name or "plan"
    try:
        measures = read_plan(name, event.content, set(deps.municipality.services))
    except PlanFileError as e:
        return Lookup("refused", {"error": e})
    return Lookup("read", {"name": name, "measures": measures})


async def receive(ctx: Context, event: File) -> Step:
    """Show what the file adds and changes, and ask to confirm; or why it was refused."""
    del event
    _ = ctx.t.gettext
    found = ctx.lookup or Lookup("undelivered", {"size": 0})
    if found.outcome == "undelivered":
        return engine.stay(ctx, [Reply(undelivered_text(ctx.t, int(found.data["size"])))])
    if found.outcome == "refused":
        error: PlanFileError = found.data["error"]
        problems = "\n".join(error.render(ctx.t))
        text = _("Nothing was imported. Correct the file and send it again:") + "\n" + problems
        return engine.stay(ctx, [Reply(text)])
    measures: list[NewMeasure] = found.data["measures"]
    known = {m.key for m in await store.all_measures(ctx.conn)}
    new = [m for m in measures if m.key not in known]
    summary = ctx.t.ngettext(
        "{name}: {n} measure read, {new} new, {known} already in the plan (updated).",
        "{name}: {n} measures read, {new} new, {known} already in the plan (updated).",
        len(measures),
        name=found.data["name"],
        new=len(new),
        known=len(measures) - len(new),
    )
    shown = "\n".join(
        f"{'🆕' if m.key not in known else '✏️'} {m.key} {m.title}"
        for m in measures[:PREVIEW_MEASURES]
    )
    keys = buttons(
        [
            PlanImportDecision("ok").button(_("✅ Import")),
            PlanImportDecision("cancel").button(_("✖️ Cancel")),
        ]
    )
    draft = {"name": found.data["name"], "measures": [to_plain(m) for m in measures]}
    return Step(PlanState.IMPORT_CONFIRM, draft, [Reply(f"{summary}\n\n{shown}", keys)])


async def decide(ctx: Context, press: PlanImportDecision) -> Step | None:
    """Store the previewed plan and tell the followers of what changed, or drop it."""
    _ = ctx.t.gettext
    if press.action == "cancel":
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, _("Cancelled."))])
    if press.action != "ok" or "measures" not in ctx.draft:
        return None
    measures = [from_plain(m) for m in ctx.draft["measures"]]
    changed, told = await import_plan(ctx.conn, str(ctx.draft["name"]), measures, ctx.now)
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
        "key": m.key, "parent_key": m.parent_key, "title": m.title,
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

"""The admin's import in chat: ``/budget import``, the kind, the date, the document, a preview
with the totals per program and the changes against the version before it, then publish."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from handlers import engine
from handlers.budget import followers, imports
from handlers.budget.importer import BudgetFileError, DocumentKind, ReadFile, lines_for, read_file
from handlers.context import Context, Deps, Lookup, Step, column
from handlers.events import File, Inbound, Reply, Text
from handlers.file_problems import undelivered_text
from handlers.flow import ButtonData, PreviewDecision, Role
from handlers.menu import MenuState, menu_reply
from storage import budget, budget_audit
from storage.budget_audit import Action, Subject

log = logging.getLogger(__name__)


class BudgetState(StrEnum):
    """An admin importing a budget document or answering a proposal; a resident proposing."""

    KIND = "budget:kind"
    DATE = "budget:date"
    FILE = "budget:file"
    CONFIRM = "budget:confirm"
    REASON = "budget:reason"
    PROGRAM = "budget:program"
    WHAT = "budget:what"
    COST = "budget:cost"
    EXTRA = "budget:extra"


ADMIN_STATES = (
    BudgetState.KIND, BudgetState.DATE, BudgetState.FILE, BudgetState.CONFIRM, BudgetState.REASON,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChooseKind(ButtonData):
    """Which document is imported."""

    prefix = "budk"
    role = Role.ADMIN
    kind: str


@dataclass(frozen=True, slots=True)
class Publish(PreviewDecision):
    """Publish the previewed version (``ok``) or drop it (``drop``); ``mark``: the preview's
    draft (a button under an earlier preview must not publish a later version)."""

    prefix = "budc"
    role = Role.ADMIN


_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\.?(?:\s+(\d{4})\.?)?")


async def start(ctx: Context, args: str) -> Step:
    """/budget import: ask which document it is."""
    _ = ctx.t.gettext
    if args.split()[:1] != ["import"]:
        return engine.stay(ctx, [Reply(_("Usage: /budget import"))])
    return Step(BudgetState.KIND, {}, kind_prompt(ctx))


def kind_prompt(ctx: Context) -> list[Reply]:
    """The kinds of document as buttons."""
    choices = [
        ChooseKind(k.value).button(imports.kind_name(ctx.t, k).capitalize()) for k in DocumentKind
    ]
    return [Reply(ctx.t.gettext("Which document are you importing?"), column(choices))]


async def choose_kind(ctx: Context, press: ChooseKind) -> Step | None:
    """Keep the kind; ask for the date the figures are of."""
    if press.kind not in DocumentKind._value2member_map_:
        return None
    return Step(BudgetState.DATE, {"kind": press.kind}, date_prompt(ctx))


def date_prompt(ctx: Context) -> list[Reply]:
    """Ask for the date (and the year, when it is another)."""
    return [
        Reply(
            ctx.t.gettext(
                "As of which date are the figures? Write it as 30.06.2026; add the budget year"
                " when it is another one (an adopted budget: 20.12.2025 2026)."
            )
        )
    ]


def parse_date(text: str) -> tuple[date, int] | None:
    """The date and the budget year of ``30.06.2026`` or ``20.12.2025 2026``, or None."""
    found = _DATE.fullmatch(text.strip())
    if found is None:
        return None
    day, month, year, budget_year = found.groups()
    try:
        as_of = date(int(year), int(month), int(day))
    except ValueError:
        return None
    the_year = int(budget_year) if budget_year else as_of.year
    return (as_of, the_year) if abs(the_year - as_of.year) <= 1 else None


async def write_date(ctx: Context, event: Text) -> Step | None:
    """Keep the date; ask for the file."""
    parsed = parse_date(event.text)
    if parsed is None:
        return None
    as_of, year = parsed
    draft = {**ctx.draft, "as_of": as_of.isoformat(), "year": year}
    return Step(BudgetState.FILE, draft, file_prompt(ctx))


def file_prompt(ctx: Context) -> list[Reply]:
    """Ask for the document."""
    return [
        Reply(
            ctx.t.gettext(
                "Send the budget file as a document (CSV or XLSX, at most 5 MB), in the format"
                " of the README. (/cancel to stop)"
            )
        )
    ]


async def read_sent_file(deps: Deps, event: Inbound) -> Lookup | None:
    """Decode and check the sent file before the transaction (a 5,000-line file takes a while;
    the database's write lock is not held meanwhile). The kind's own check is left to the step."""
    del deps
    if not isinstance(event, File) or event.content is None:
        return None
    # Off the event loop: a 5,000-line file takes a while, and everyone else would wait.
    read = await asyncio.to_thread(read_file, event.name or "budget", event.content)
    return Lookup("read", {"read": read})


async def receive_file(ctx: Context, event: File) -> Step:
    """Refuse the file read before the transaction with every problem, or store it unpublished
    and preview it."""
    _ = ctx.t.gettext
    read = ctx.lookup.data.get("read") if ctx.lookup is not None else None
    if event.content is None or not isinstance(read, ReadFile):
        return engine.stay(ctx, [Reply(undelivered_text(ctx.t, event.size))])
    kind = DocumentKind(str(ctx.draft["kind"]))
    name = read.file
    try:
        lines = lines_for(read, kind)
    except BudgetFileError as e:
        problems = "\n".join(e.render(ctx.t))
        text = _("Nothing was imported. Correct the file and send it again:") + "\n" + problems
        detail = {"file": name, "kind": kind, "problems": len(e.problems)}
        await budget_audit.record(
            ctx.conn, ctx.user.id, Action.IMPORT_REFUSED, Subject.FILE, None, ctx.now, detail
        )
        return engine.stay(ctx, [Reply(text)])
    document = _document(ctx.draft, name)
    preview = await imports.preview(ctx.conn, document, lines)
    # A preview left without an answer (a /cancel, a new import) is dropped now, in the history.
    for left in await budget.drop_unpublished(ctx.conn, imported_by=ctx.user.id):
        await _audit_drop(ctx, left)
    version_id = await imports.store(
        ctx.conn, document, lines, imported_by=ctx.user.id, now=ctx.now, published=False
    )
    await imports.audit(
        ctx.conn, Action.IMPORT_PREVIEWED, ctx.user.id, version_id, document, ctx.now
    )
    log.info("admin %s prepared budget version %s", ctx.user.id, version_id)
    draft = {**ctx.draft, "file": name, "version_id": version_id}
    choices = [
        Publish.under("ok", draft).button(_("✅ Publish")),
        Publish.under("drop", draft).button(_("🗑 Drop")),
    ]
    reply = Reply(imports.describe(ctx.t, preview)[:3500], column(choices))
    return Step(BudgetState.CONFIRM, draft, [reply])


def _document(draft: dict[str, object], name: str) -> imports.Document:
    """The document the draft describes (its kind, year and date, chosen before the file)."""
    as_of = date.fromisoformat(str(draft["as_of"]))
    return imports.Document(int(str(draft["year"])), DocumentKind(str(draft["kind"])), as_of, name)


def _stored_document(v: budget.Version) -> imports.Document:
    """The document of a stored version (a preview made before the draft held its facts too)."""
    return imports.Document(v.year, DocumentKind(v.kind), v.as_of, v.file_name)


async def _audit_drop(ctx: Context, v: budget.Version) -> None:
    """The drop's entry; the version's entries are detached from its id, which the next version
    may get."""
    await imports.audit(
        ctx.conn, Action.IMPORT_DROPPED, ctx.user.id, v.id, _stored_document(v), ctx.now
    )
    await budget_audit.detach(ctx.conn, Subject.VERSION, [v.id], "dropped")


async def decide(ctx: Context, press: Publish) -> Step | None:
    """Publish the prepared version (once), or drop it."""
    _ = ctx.t.gettext
    version_id = ctx.draft.get("version_id")
    if not isinstance(version_id, int) or press.action not in ("ok", "drop"):
        return None
    if press.action == "drop":
        for dropped in await budget.drop_unpublished(ctx.conn, version_id=version_id):
            await _audit_drop(ctx, dropped)
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, _("Dropped; nothing was published."))])
    version = await budget.stored(ctx.conn, version_id)
    if version is None or not await budget.publish(ctx.conn, version_id, ctx.user.id, ctx.now):
        return Step(MenuState.MAIN, {}, [menu_reply(ctx)])
    await imports.audit(
        ctx.conn, Action.IMPORT_PUBLISHED, ctx.user.id, version_id, _stored_document(version),
        ctx.now,
    )  # fmt: skip
    log.info("admin %s published budget version %s", ctx.user.id, version_id)
    text = _("Published: residents now see this version of the budget.")
    progress = await followers.tell_followers(ctx, version_id)
    return Step(MenuState.MAIN, {}, [*([progress] if progress else []), menu_reply(ctx, text)])


def cancel(ctx: Context) -> Step:
    """/cancel: drop the import (a prepared version stays unpublished until dropped here)."""
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, ctx.t.gettext("Cancelled."))])

"""The librarian's import in chat: send the file, see what it would add, confirm."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any

from handlers.context import Context, Deps, Lookup, Step, buttons
from handlers.events import File, Inbound, Reply
from handlers.file_problems import undelivered_text
from handlers.flow import PreviewDecision, Role
from handlers.library import importing
from handlers.library.browse import LibraryState
from handlers.library.reading import ImportRefusedError, file_format, read_titles
from handlers.library.titles import NewTitle
from handlers.menu import MenuState, menu_reply

MAX_CHAT_TITLES = 2000  # a bigger file goes through the command line (the draft holds them)
PREVIEW_TITLES = 5


@dataclass(frozen=True, slots=True)
class ImportDecision(PreviewDecision):
    """Store the previewed titles (``ok``) or drop them (``cancel``)."""

    prefix = "libimp"
    role = Role.LIBRARIAN


async def start(ctx: Context, args: str = "") -> Step:
    """/library import: ask for the file."""
    del args
    text = ctx.t.gettext(
        "Send the file of new acquisitions as a document: MARC records (ISO 2709 or MARCXML),"
        " CSV or XLSX. (/cancel to stop)"
    )
    return Step(LibraryState.IMPORT, {}, [Reply(text)])


async def read_file(deps: Deps, event: Inbound) -> Lookup | None:
    """Read the sent file before the transaction (parsing is the slow part)."""
    del deps
    if not isinstance(event, File):
        return Lookup("missing")
    if event.content is None:
        return Lookup("undelivered", {"size": event.size})
    name = event.name or "file"
    try:
        # Off the event loop: a 5 MB file takes seconds to parse, and everyone else waits.
        titles = await asyncio.to_thread(read_titles, name, event.content)
    except ImportRefusedError as e:
        return Lookup("refused", {"error": e})
    source = importing.SOURCES[file_format(event.content)]
    return Lookup("read", {"name": name, "source": source, "titles": titles})


async def receive(ctx: Context, event: File) -> Step:
    """Show what the file would add, and ask to confirm; or why it was refused."""
    del event
    _ = ctx.t.gettext
    found = ctx.lookup or Lookup("missing")
    if found.outcome == "refused":
        error: ImportRefusedError = found.data["error"]
        text = (
            _("The file was refused; nothing was stored:") + "\n" + "\n".join(error.render(ctx.t))
        )
        return Step(ctx.state, {}, [Reply(text)])
    if found.outcome == "undelivered":
        return Step(ctx.state, {}, [Reply(undelivered_text(ctx.t, int(found.data["size"])))])
    titles: list[NewTitle] = found.data.get("titles", [])
    if found.outcome != "read" or len(titles) > MAX_CHAT_TITLES:
        text = _(
            "The file did not come through, or it is too big for the chat. Send it again, or"
            " import it with: moja-opstina library import FILE"
        )
        return Step(ctx.state, {}, [Reply(text)])
    preview = await importing.preview_titles(ctx.conn, found.data["source"], titles)
    summary = ctx.t.ngettext(
        "{name}: {n} title read, {new} new, {known} already known.",
        "{name}: {n} titles read, {new} new, {known} already known.",
        preview.read,
        name=found.data["name"],
        new=len(preview.new),
        known=preview.duplicates,
    )
    if not preview.new:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, summary)])
    first = "\n".join(f"📖 {t.title}" for t in preview.new[:PREVIEW_TITLES])
    draft = {"source": preview.source, "titles": [_plain(t) for t in preview.new]}
    keys = buttons(
        [
            ImportDecision.under("ok", draft).button(_("✅ Import")),
            ImportDecision.under("cancel", draft).button(_("✖️ Cancel")),
        ]
    )
    return Step(LibraryState.IMPORT_CONFIRM, draft, [Reply(f"{summary}\n\n{first}", keys)])


def _plain(title: NewTitle) -> dict[str, Any]:
    return dataclasses.asdict(title)


def _title(data: dict[str, Any]) -> NewTitle:
    return NewTitle(**{**data, "authors": tuple(data.get("authors") or ())})


async def decide(ctx: Context, press: ImportDecision) -> Step | None:
    """Store the previewed titles (those known meanwhile are skipped), or drop them."""
    _ = ctx.t.gettext
    if press.action == "cancel":
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, _("Cancelled."))])
    if press.action != "ok" or "titles" not in ctx.draft:
        return None
    titles = tuple(_title(t) for t in ctx.draft["titles"])
    preview = importing.Preview(str(ctx.draft["source"]), len(titles), titles)
    added = await importing.store(ctx.conn, preview, ctx.now)
    text = ctx.t.ngettext("Imported: {n} new title.", "Imported: {n} new titles.", len(added))
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])

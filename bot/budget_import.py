"""``moja-opstina budget import FILE --kind ... --as-of DATE``: the staff's import from a shell."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from bot.clock import SystemClock
from bot.settings import Settings
from handlers.budget import followers, imports
from handlers.budget.importer import BudgetFileError, DocumentKind, read_budget
from handlers.i18n import translator
from handlers.municipality import Municipality
from storage.budget import Line
from storage.budget_audit import Action
from storage.db import Database


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``budget`` command's arguments."""
    parser = commands.add_parser("budget", help="import a budget document (CSV or XLSX)")
    parser.add_argument("action", choices=["import"])
    parser.add_argument("file", type=Path, help="the budget file (README: the import format)")
    parser.add_argument("--kind", required=True, choices=[k.value for k in DocumentKind])
    parser.add_argument("--as-of", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--year", type=int, help="the budget year (default: the year of --as-of)")


def run(args: argparse.Namespace, settings: Settings, municipality: Municipality) -> int:
    """Check the file whole; store it as a new version only when it has no problem."""
    t = translator(municipality.staff_language)
    path: Path = args.file
    try:
        content = path.read_bytes()
    except OSError as e:
        print(f"moja-opstina: {path}: {e.strerror}", file=sys.stderr)
        return 2
    kind = DocumentKind(args.kind)
    try:
        lines = read_budget(path.name, content, kind)
    except BudgetFileError as e:
        for problem in e.render(t, limit=len(e.problems)):
            print(problem, file=sys.stderr)
        print(t.gettext("Nothing was imported."), file=sys.stderr)
        return 1
    document = imports.Document(args.year or args.as_of.year, kind, args.as_of, path.name)
    preview, told = asyncio.run(store(settings, municipality, document, lines))
    print(imports.describe(t, preview))
    print(t.gettext("Imported: {n} lines.", n=len(lines)))
    if told:
        print(t.gettext("The budget's followers to be told: {n}.", n=told))
    return 0


async def store(
    settings: Settings, m: Municipality, document: imports.Document, lines: list[Line]
) -> tuple[imports.Preview, int]:
    """Store a checked document, published, and queue its news to the budget's followers.

    The news goes into the outbox in the same transaction; the running bot's outbox sweep sends
    it. Returns the preview against the version before it and how many followers are told.
    """
    db = await Database.open(settings.database)
    now = SystemClock().now()
    try:
        async with db.transaction() as conn:
            preview = await imports.preview(conn, document, lines)
            version_id = await imports.store(conn, document, lines, imported_by=None, now=now)
            await imports.audit(conn, Action.IMPORT_PUBLISHED, None, version_id, document, now,
                                by="command line")  # fmt: skip
            told = await followers.queue_news(conn, m, version_id, now)
    finally:
        await db.close()
    return preview, told

"""``moja-opstina plan import FILE``: the staff's import of the action plan from a shell."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.clock import SystemClock
from bot.settings import Settings
from handlers.i18n import translator
from handlers.municipality import Municipality
from handlers.plan.config import PlanSection
from handlers.plan.importer import PlanFileError, read_plan
from handlers.plan.imports import import_plan
from storage import outbox
from storage.db import Database
from storage.outbox import NewMessage
from storage.plan import NewMeasure


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``plan`` command's arguments."""
    parser = commands.add_parser("plan", help="import the action plan's measures (CSV or XLSX)")
    parser.add_argument("action", choices=["import"])
    parser.add_argument("file", type=Path, help="the plan file (README: the action plan)")
    parser.add_argument(
        "--plan",
        default=None,
        help="the plan (its id in the municipality file) of rows without a plan column;"
        " the default plan when not given",
    )


def run(args: argparse.Namespace, settings: Settings, municipality: Municipality) -> int:
    """Check the file whole; store it only when it has no problem."""
    t = translator(municipality.staff_language)
    path: Path = args.file
    plans = municipality.plan
    if args.plan is not None and plans.get(args.plan) is None:
        known = ", ".join(p.id for p in plans.plans)
        print(t.gettext("No plan has the id «{value}»; the plans: {known}", value=args.plan,
                        known=known), file=sys.stderr)  # fmt: skip
        return 2
    try:
        content = path.read_bytes()
    except OSError as e:
        print(f"moja-opstina: {path}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        measures = read_plan(path.name, content, set(municipality.services), plans, args.plan)
    except PlanFileError as e:
        for problem in e.render(t, limit=len(e.problems)):
            print(problem, file=sys.stderr)
        print(t.gettext("Nothing was imported."), file=sys.stderr)
        return 1
    changed, told = asyncio.run(store(settings, path.name, measures, plans))
    print(t.gettext("Imported: {n} measures; changed: {changed}; followers told: {told}.",
                    n=len(measures), changed=changed, told=told))  # fmt: skip
    return 0


async def store(
    settings: Settings, file_name: str, measures: list[NewMeasure], plans: PlanSection
) -> tuple[int, int]:
    """Store the measures and queue the followers' notices (the running bot sends them)."""
    db = await Database.open(settings.database)
    try:
        async with db.transaction() as conn:
            now = SystemClock().now()
            changed, out = await import_plan(conn, file_name, measures, now, plans)
            messages = [NewMessage(o.channel, o.chat_id, None, o.reply.to_payload()) for o in out]
            await outbox.enqueue(conn, messages, now)
    finally:
        await db.close()
    return changed, len(out)

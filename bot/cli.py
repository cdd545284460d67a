"""The ``moja-opstina`` command: run the bot, chat on the console, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot import backup, budget_import, check, datalock, library_import, logs, plan_import
from bot import web as public_web
from bot.app import build_app
from bot.channels.console import ConsoleChannel, chat
from bot.runtime import run_messengers
from bot.settings import Settings
from bot.web import export
from handlers.events import Sender
from handlers.i18n import translator
from handlers.municipality import Municipality, MunicipalityFileError, load_municipality
from storage.db import Database, DatabaseTooNewError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="moja-opstina", description="Moja opština chatbot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "run", help="run the bot (the console channel when no messenger token is set)"
    )
    chat_parser = commands.add_parser("chat", help="chat with the bot on the console")
    chat_parser.add_argument("--user", default="resident", help="the resident to act as")
    chat_parser.add_argument("--staff", action="store_true", help="act as the first admin")
    commands.add_parser("check", help="check the settings and every outside part, one line each")
    db_parser = commands.add_parser("db", help="database maintenance")
    db_parser.add_argument("action", choices=["migrate", "backup", "restore"])
    db_parser.add_argument(
        "folder", nargs="?", type=Path, help="backup: a new folder; restore: a backup folder"
    )
    budget_import.add_parser(commands)
    plan_import.add_parser(commands)
    library = commands.add_parser("library", help="the town library")
    library.add_argument("action", choices=["import"])
    library.add_argument("file", type=Path, help="MARC (ISO 2709, MARCXML), CSV or XLSX")
    library.add_argument("--dry-run", action="store_true", help="only say what it would add")
    export.add_parser(commands)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = parse_args(argv)
    if args.command == "check":
        return asyncio.run(check.report())
    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.secrets, json_lines=settings.log_format == "json")
    try:
        municipality = load_municipality(settings.config)
    except MunicipalityFileError as e:
        print(f"moja-opstina: {e}", file=sys.stderr)
        return 2
    for problem in settings.problems():
        print(f"moja-opstina: {problem}", file=sys.stderr)
        return 2
    if args.command == "db" and args.action in ("backup", "restore"):
        return backups(args.action, args.folder, settings)
    try:
        with datalock.shared(settings.data_dir):
            return run_command(args, settings, municipality)
    except DatabaseTooNewError as e:
        print(f"moja-opstina: {e}", file=sys.stderr)
        return 2
    except datalock.DataDirBusyError:
        print(f"moja-opstina: {settings.data_dir} is being restored; wait", file=sys.stderr)
        return 2


def backups(action: str, folder: Path | None, settings: Settings) -> int:
    """Take a backup into ``folder``, or restore the one in it."""
    if folder is None:
        print(f"moja-opstina: db {action} needs a folder", file=sys.stderr)
        return 2
    try:
        if action == "backup":
            copied = backup.backup(settings.data_dir, folder)
            print(f"backup of {settings.data_dir} in {folder}: {copied.describe()}")
        else:
            copied = backup.restore(folder, settings.data_dir)
            print(f"{settings.data_dir} restored from {folder}: {copied.describe()}")
    except backup.BackupError as e:
        print(f"moja-opstina: {e}", file=sys.stderr)
        return 1
    return 0


def run_command(args: argparse.Namespace, settings: Settings, municipality: Municipality) -> int:
    """Run the command that the command line names."""
    match args.command:
        case "db":
            return asyncio.run(migrate(settings))
        case "budget":
            return budget_import.run(args, settings, municipality)
        case "plan":
            return plan_import.run(args, settings, municipality)
        case "library":
            t = translator(municipality.staff_language)
            return library_import.run(settings, args.file, t, dry_run=args.dry_run)
        case "export":
            return export.run(args, settings, municipality)
        case "chat":
            return asyncio.run(run_console(settings, municipality, args.user, staff=args.staff))
        case _ if settings.has_messenger:
            return asyncio.run(run_messengers(settings, municipality))
        case _:
            run = run_console(settings, municipality, "resident", staff=False, site=True)
            return asyncio.run(run)


async def migrate(settings: Settings) -> int:
    """Bring the database schema up to date."""
    db = await Database.open(settings.database)
    try:
        version = await db.migrate()
    finally:
        await db.close()
    print(f"database {settings.database} is at schema version {version}")
    return 0


async def run_console(
    settings: Settings, municipality: Municipality, user: str, *, staff: bool, site: bool = False
) -> int:
    """Chat on stdin and stdout until the end of input (``site``: with the public site too)."""
    channel = ConsoleChannel(data_dir=settings.data_dir)
    if staff:
        admin = next(m for m in municipality.staff if m.role == "admin")
        sender = Sender("console", f"staff:{admin.user_id}", f"staff:{admin.user_id}", admin.name)
    else:
        sender = Sender("console", user, user, user)
    async with (
        build_app(settings, municipality, {"console": channel}) as app,
        public_web.serving(settings, app, on=site),
    ):
        await app.sender.recover()
        await chat(channel, sender, app.dispatcher.dispatch, app.sender.drain, sys.stdin)
    return 0

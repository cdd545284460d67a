"""``moja-opstina export DIR``: write the open data sets into a folder (what /data/ serves)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.clock import SystemClock
from bot.settings import Settings
from bot.web import datasets
from handlers.municipality import Municipality
from storage.db import Database


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``export`` command's arguments."""
    parser = commands.add_parser("export", help="write the open data sets into a folder")
    parser.add_argument("folder", type=Path, help="where the files go (made when missing)")


def run(args: argparse.Namespace, settings: Settings, municipality: Municipality) -> int:
    """Write every data set, the catalogue and the ZIP; print one line per file."""
    written = asyncio.run(export(settings, municipality, args.folder))
    for path in written:
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


async def export(settings: Settings, municipality: Municipality, folder: Path) -> list[Path]:
    """Build the data sets from the database as committed now."""
    db = await Database.open(settings.database)
    try:
        now = SystemClock().now()
        return await datasets.refresh(db.reader, municipality, now, settings.base_url, folder)
    finally:
        await db.close()

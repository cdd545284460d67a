"""``moja-opstina library import FILE``: the librarian's import from the command line."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.settings import Settings
from handlers.library import importing
from handlers.library.reading import ImportRefusedError
from storage.db import Database


def run(settings: Settings, path: Path, *, dry_run: bool) -> int:
    """Import a file of new acquisitions (or only say what it would add); the exit status."""
    try:
        content = path.read_bytes()
    except OSError as e:
        print(f"moja-opstina: {path}: {e.strerror}", file=sys.stderr)
        return 2
    return asyncio.run(import_content(settings, path, content, dry_run=dry_run))


async def import_content(settings: Settings, path: Path, content: bytes, *, dry_run: bool) -> int:
    """Import the content of the file at ``path``."""
    db = await Database.open(settings.database)
    try:
        async with db.transaction() as conn:
            try:
                found = await importing.preview(conn, path.name, content)
            except ImportRefusedError as e:
                for error in e.errors:
                    print(error, file=sys.stderr)
                print(f"moja-opstina: {path.name} refused; nothing was stored", file=sys.stderr)
                return 1
            added = [] if dry_run else await importing.store(conn, found, datetime.now(UTC))
    finally:
        await db.close()
    verb = "would add" if dry_run else "added"
    print(
        f"{path.name}: {found.read} titles read, {verb} {len(found.new) if dry_run else len(added)}"
        f", {found.duplicates} already known"
    )
    return 0

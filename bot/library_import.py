"""``moja-opstina library import FILE``: the librarian's import from the command line.

What it says is in the staff's language (the municipality's first), from the catalogs, like the
import in chat.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.settings import Settings
from handlers.i18n import Translator
from handlers.library import importing
from handlers.library.reading import ImportRefusedError
from storage.db import Database


def run(settings: Settings, path: Path, t: Translator, *, dry_run: bool) -> int:
    """Import a file of new acquisitions (or only say what it would add); the exit status."""
    try:
        content = path.read_bytes()
    except OSError as e:
        print(f"moja-opstina: {path}: {e.strerror}", file=sys.stderr)
        return 2
    return asyncio.run(import_content(settings, path, content, t, dry_run=dry_run))


async def import_content(
    settings: Settings, path: Path, content: bytes, t: Translator, *, dry_run: bool
) -> int:
    """Import the content of the file at ``path``."""
    db = await Database.open(settings.database)
    try:
        async with db.transaction() as conn:
            try:
                found = await importing.preview(conn, path.name, content)
            except ImportRefusedError as e:
                for error in e.render(t):
                    print(error, file=sys.stderr)
                refused = t.gettext("{file} was refused; nothing was stored.", file=path.name)
                print(f"moja-opstina: {refused}", file=sys.stderr)
                return 1
            added = [] if dry_run else await importing.store(conn, found, datetime.now(UTC))
    finally:
        await db.close()
    if dry_run:
        summary = t.ngettext(
            "{file}: {n} title read, would add {new}, {known} already known",
            "{file}: {n} titles read, would add {new}, {known} already known",
            found.read, file=path.name, new=len(found.new), known=found.duplicates,
        )  # fmt: skip
    else:
        summary = t.ngettext(
            "{file}: {n} title read, added {new}, {known} already known",
            "{file}: {n} titles read, added {new}, {known} already known",
            found.read, file=path.name, new=len(added), known=found.duplicates,
        )  # fmt: skip
    print(summary)
    return 0

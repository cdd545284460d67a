"""Files a messenger fetches by URL (Viber's file messages): written for one message, kept briefly.

A resident's data export is a file only while the messenger downloads it: it lives under
``exports/<expiry>-<random>/<name>`` in the data folder, the URL that names it is signed (see
bot/channels/viber.py), it is refused once expired, and a job deletes it.
"""

from __future__ import annotations

import secrets
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

FOLDER = "exports"
KEPT = timedelta(minutes=30)


def write_export(data_dir: Path, name: str, content: bytes, now: datetime) -> str:
    """Write ``content`` as ``name`` for a short while; return its path in the data folder."""
    expiry = int((now + KEPT).timestamp())
    relative = Path(FOLDER) / f"{expiry}-{secrets.token_urlsafe(16)}" / Path(name).name
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return relative.as_posix()


def expired(path: str, now: datetime) -> bool:
    """Whether an export's time is over (a path that is not an export's counts as over)."""
    parts = Path(path).parts
    if len(parts) != 3 or parts[0] != FOLDER:
        return True
    expiry, _, _ = parts[1].partition("-")
    return not expiry.isdigit() or datetime.fromtimestamp(int(expiry), UTC) <= now


def delete_expired(data_dir: Path, now: datetime) -> int:
    """Delete the exports whose time is over; return how many."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return 0
    deleted = 0
    for entry in folder.iterdir():
        if entry.is_dir() and expired(f"{FOLDER}/{entry.name}/x", now):
            shutil.rmtree(entry, ignore_errors=True)
            deleted += 1
    return deleted

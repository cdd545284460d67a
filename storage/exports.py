"""A resident's data export: files written for one delivery, private, and kept briefly.

An export lives under ``exports/<expiry>-<random>/<name>`` in the data folder: the folder is the
owner's only (0700) and so are its files (0600). The outbox row that sends it names the path,
never the content. Telegram uploads the file; Viber fetches it by a signed URL (see
bot/channels/viber.py), refused once expired. The export job deletes a folder once no pending
message names it (Viber's only at its expiry: Viber may fetch the URL after accepting the
message), and every folder whose time is over.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

FOLDER = "exports"
KEPT = timedelta(minutes=30)
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600


def write_exports(data_dir: Path, files: Mapping[str, bytes], now: datetime) -> dict[str, str]:
    """Write ``files`` (name -> content) into one new private folder for a short while; return
    each name's path in the data folder."""
    expiry = int((now + KEPT).timestamp())
    folder = Path(FOLDER) / f"{expiry}-{secrets.token_urlsafe(16)}"
    _private_folder(data_dir / FOLDER)
    _private_folder(data_dir / folder)
    paths = {}
    for name, content in files.items():
        relative = folder / Path(name).name
        _write_private(data_dir / relative, content)
        paths[name] = relative.as_posix()
    return paths


def _private_folder(path: Path) -> None:
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    path.chmod(PRIVATE_FOLDER)  # mkdir's mode is cut by the umask, and an old folder kept its own


def _write_private(path: Path, content: bytes) -> None:
    # Created with its mode, never readable by others even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as file:
        file.write(content)


def expired(path: str, now: datetime) -> bool:
    """Whether an export's time is over (a path that is not an export's counts as over)."""
    parts = Path(path).parts
    if len(parts) != 3 or parts[0] != FOLDER:
        return True
    expiry, _, _ = parts[1].partition("-")
    return not expiry.isdigit() or datetime.fromtimestamp(int(expiry), UTC) <= now


def is_export(path: str) -> bool:
    """Whether ``path`` names a file in an export folder (``exports/<expiry>-<random>/<name>``)."""
    parts = Path(path).parts
    return len(parts) == 3 and parts[0] == FOLDER and ".." not in parts


def folder_of(path: str) -> str:
    """The export folder a path is in (``exports/<expiry>-<random>``), or "" for another path."""
    parts = Path(path).parts
    return f"{parts[0]}/{parts[1]}" if len(parts) == 3 and parts[0] == FOLDER else ""


def delete_unneeded(data_dir: Path, needed: Collection[str], now: datetime) -> int:
    """Delete the export folders that no path in ``needed`` is in, and those whose time is
    over; return how many."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return 0
    kept = {folder_of(p) for p in needed}
    deleted = 0
    for entry in folder.iterdir():
        name = f"{FOLDER}/{entry.name}"
        if entry.is_dir() and (expired(f"{name}/x", now) or name not in kept):
            shutil.rmtree(entry, ignore_errors=True)
            deleted += 1
    return deleted

"""Backups of the data folder: a consistent copy of the database, and the photos beside it.

The database is copied with SQLite's online backup API, which reads one snapshot inside a read
transaction, so the bot goes on writing while a backup is taken and the copy holds every
transaction committed before it began. Photos are stored under their content hash and never
change, and a report's photo is on disk before the report is committed, so copying them after
the database gives every photo the copied reports name.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.datalock import DataDirBusyError, exclusive
from storage.db import latest_version

DATABASE = "bot.db"
PHOTOS = "photos"


class BackupError(Exception):
    """A backup cannot be taken or restored; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Copied:
    """What a backup or a restore copied."""

    schema_version: int
    reports: int
    photos: int

    def describe(self) -> str:
        """One line for the operator."""
        return f"schema version {self.schema_version}, {self.reports} reports, {self.photos} photos"


def backup(data_dir: Path, target: Path) -> Copied:
    """Copy the database and the photos of ``data_dir`` into the new folder ``target``.

    Raises:
        BackupError: there is no database, or ``target`` already holds something.
    """
    source = data_dir / DATABASE
    if not source.is_file():
        raise BackupError(f"there is no database at {source} (is BOT_DATA_DIR right?)")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: give each backup a new folder")
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f"{DATABASE}.part"
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(partial)) as dst,
    ):
        # In one step (pages=-1): a backup in several steps starts again whenever the bot
        # writes between them, so under steady writing it might never finish.
        src.backup(dst)
        # One self-contained file (no -wal beside it) that opens read-only anywhere.
        dst.execute("PRAGMA journal_mode=DELETE")
        copied = _check(dst, partial)
    partial.replace(target / DATABASE)
    photos = _copy_photos(data_dir / PHOTOS, target / PHOTOS)
    return Copied(copied.schema_version, copied.reports, photos)


def restore(source: Path, data_dir: Path) -> Copied:
    """Put the backup in ``source`` back into ``data_dir``; the bot must be stopped.

    The database is replaced whole; photos missing from the data folder are copied back
    (the ones already there are the same files, by their names).

    Raises:
        BackupError: the backup is missing, damaged or newer than this code, or the bot runs.
    """
    backup_file = source / DATABASE
    if not backup_file.is_file():
        raise BackupError(f"there is no {DATABASE} in {source}: is it a backup folder?")
    with closing(sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro", uri=True)) as src:
        copied = _check(src, backup_file)
        if copied.schema_version > latest_version():
            raise BackupError(
                f"the backup is at schema version {copied.schema_version}, newer than this"
                f" version of moja-opstina ({latest_version()}): install the version that took it"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with exclusive(data_dir), closing(sqlite3.connect(data_dir / DATABASE)) as dst:
                src.backup(dst)
        except DataDirBusyError as e:
            raise BackupError(
                f"the bot is running on {data_dir}: stop it first (systemctl stop moja-opstina)"
            ) from e
    photos = _copy_photos(source / PHOTOS, data_dir / PHOTOS)
    return Copied(copied.schema_version, copied.reports, photos)


def _check(conn: sqlite3.Connection, path: Path) -> Copied:
    """Check a database copy and count what it holds."""
    try:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        reports = int(conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0])
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} is not a usable database ({e})") from e
    if result != ["ok"]:
        raise BackupError(f"{path} fails SQLite's integrity check: {result[0]}")
    return Copied(version, reports, 0)


def _copy_photos(source: Path, target: Path) -> int:
    """Copy the photo files that ``target`` lacks; return how many photos ``source`` has."""
    count = 0
    if not source.is_dir():
        return count
    for photo in sorted(source.rglob("*.jpg")):
        destination = target / photo.relative_to(source)
        count += 1
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        # Copy then rename, so an interrupted copy never leaves half a photo under its name.
        partial = destination.with_suffix(".part")
        shutil.copy2(photo, partial)
        partial.replace(destination)
    return count

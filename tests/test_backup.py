"""Backups: taken while residents write, restored on a stopped bot, refused when unsafe."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from bot import datalock
from bot.backup import BackupError, backup, restore
from storage import reports, users
from storage.db import Database, latest_version
from storage.photos import PhotoStore
from tests.conftest import ROOT, jpeg

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Enough data that the copy takes a while, so residents' writes land while it runs.
FILLER_REPORTS = 3000
FILLER_TEXT = "Рупа на путу. " * 500


def new_report(
    user_id: int, description: str, photos: tuple[reports.NewPhoto, ...] = ()
) -> reports.NewReport:
    """A report as the reporting flow would store it."""
    return reports.NewReport(
        user_id, "roads", "roads", description, 42.966, 22.129, None, photos, sla_hours=72
    )


async def fill(db: Database, data_dir: Path) -> tuple[int, list[str]]:
    """A resident, a large history of reports, and a few with photos; return the user and refs."""
    store = PhotoStore(data_dir)
    async with db.transaction() as conn:
        user = await users.create_user(
            conn, channel="telegram", external_id="1", chat_id="1", first_name="Ана",
            role="resident", now=NOW,
        )  # fmt: skip
        refs = [
            await reports.create_report(conn, "VLA", new_report(user.id, FILLER_TEXT), NOW)
            for _ in range(FILLER_REPORTS)
        ]
        for color in ("red", "green", "blue"):
            saved = store.save(jpeg(color))
            photo = reports.NewPhoto(saved.path, saved.sha256, "telegram", f"file-{color}")
            refs.append(
                await reports.create_report(conn, "VLA", new_report(user.id, color, (photo,)), NOW)
            )
    return user.id, refs


def refs_in(path: Path) -> set[str]:
    """The report references a database file holds, after checking its integrity."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return {str(r[0]) for r in conn.execute("SELECT ref FROM reports")}
    finally:
        conn.close()


def photos_in(path: Path) -> list[str]:
    """The photo paths the reports of a database name."""
    conn = sqlite3.connect(path)
    try:
        return [str(r[0]) for r in conn.execute("SELECT path FROM report_photos")]
    finally:
        conn.close()


async def test_a_backup_taken_while_residents_write_restores_all_committed_before_it(
    tmp_path: Path,
) -> None:
    live = tmp_path / "data"
    db = await Database.open(live / "bot.db")
    user_id, committed = await fill(db, live)
    stop, writing = asyncio.Event(), asyncio.Event()

    async def resident_writes() -> None:
        while not stop.is_set():
            report = new_report(user_id, "Не ради светло")
            ref = await db.in_batch(
                partial(reports.create_report, code="VLA", report=report, now=NOW)
            )
            committed.append(ref)  # the commit has happened once in_batch returns
            if len(committed) >= FILLER_REPORTS + 10:
                writing.set()

    writer = asyncio.create_task(resident_writes())
    await writing.wait()
    before = set(committed)
    copied = await asyncio.to_thread(backup, live, tmp_path / "backup")
    written_during = len(committed) - len(before)
    stop.set()
    await writer
    await db.close()

    in_backup = refs_in(tmp_path / "backup" / "bot.db")
    assert written_during > 0, "no resident wrote while the backup ran"
    assert before <= in_backup
    assert copied.reports == len(in_backup)
    assert copied.photos == 3
    assert copied.schema_version == latest_version()
    assert len(set(committed)) > len(in_backup), "writes after the snapshot are not in it"

    # The bot is stopped; the backup goes back over the live folder and a new one.
    for target in (live, tmp_path / "new-server"):
        restored = restore(tmp_path / "backup", target)
        assert refs_in(target / "bot.db") == in_backup
        assert restored.reports == len(in_backup)
        for photo in photos_in(target / "bot.db"):
            assert (target / photo).read_bytes() == (live / photo).read_bytes()
        reopened = await Database.open(target / "bot.db")
        await reopened.close()


async def test_restore_refuses_while_the_bot_runs_and_leaves_the_database(tmp_path: Path) -> None:
    live = tmp_path / "data"
    db = await Database.open(live / "bot.db")
    await fill_small(db)
    backup(live, tmp_path / "backup")
    async with db.transaction() as conn:
        await reports.create_report(conn, "VLA", new_report(1, "после бекапа"), NOW)
    expected = refs_in(live / "bot.db")

    with datalock.shared(live), pytest.raises(BackupError, match="stop it first"):
        restore(tmp_path / "backup", live)

    await db.close()
    assert refs_in(live / "bot.db") == expected


async def fill_small(db: Database) -> None:
    """One resident and one report."""
    async with db.transaction() as conn:
        user = await users.create_user(
            conn, channel="telegram", external_id="1", chat_id="1", first_name="Ана",
            role="resident", now=NOW,
        )  # fmt: skip
        await reports.create_report(conn, "VLA", new_report(user.id, "Рупа"), NOW)


async def test_backups_refuse_a_used_folder_and_a_damaged_or_newer_copy(tmp_path: Path) -> None:
    live = tmp_path / "data"
    db = await Database.open(live / "bot.db")
    await fill_small(db)
    await db.close()
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        backup(live, used)
    with pytest.raises(BackupError, match="no database"):
        backup(tmp_path / "nothing", tmp_path / "b0")

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "bot.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackupError, match="not a usable database"):
        restore(damaged, live)

    backup(live, tmp_path / "newer")
    conn = sqlite3.connect(tmp_path / "newer" / "bot.db")
    conn.execute(f"PRAGMA user_version={latest_version() + 1}")
    conn.close()
    with pytest.raises(BackupError, match="newer than this version"):
        restore(tmp_path / "newer", live)
    assert len(refs_in(live / "bot.db")) == 1


async def test_the_commands_back_up_and_restore(tmp_path: Path) -> None:
    live = tmp_path / "data"
    db = await Database.open(live / "bot.db")
    await fill_small(db)
    await db.close()

    def command(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"BOT_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
        return subprocess.run(
            [sys.executable, "-m", "bot", "db", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    taken = command(live, "backup", str(tmp_path / "b1"))
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.splitlines() == [
        f"backup of {live} in {tmp_path / 'b1'}: schema version {latest_version()}, 1 reports,"
        " 0 photos"
    ]
    put_back = command(tmp_path / "other", "restore", str(tmp_path / "b1"))
    assert put_back.returncode == 0, put_back.stderr
    assert refs_in(tmp_path / "other" / "bot.db") == refs_in(live / "bot.db")
    again = command(live, "backup", str(tmp_path / "b1"))
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1
    assert "not empty" in again.stderr

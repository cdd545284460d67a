"""What a client reads as a report's last change (Open311's ``updated_datetime``) moves with every
public change of the report, and an internal note changes nothing the public sees: neither that
time nor the revision the published texts are kept by (migration 0025's counters)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from storage import opendata
from storage.db import Database
from storage.sql import fetch_all, fetch_one
from tests.conftest import REF, Office
from tests.test_migrations import build_at
from tests.test_open311 import Server, api_settings, serving

SECOND = "VLA-2026-00002"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
async def server(office: Office, settings: Settings) -> AsyncIterator[Server]:
    async with serving(office, settings) as served:
        yield served


async def published(server: Server, ref: str = REF, fmt: str = "json") -> dict[str, Any]:
    """The report as the ``georeport`` client reads it."""
    found = await asyncio.to_thread(server.client(fmt).get_service_request, ref)
    return dict(found[0] if isinstance(found, list) else found)


def updated(document: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(document["updated_datetime"])


async def revision(server: Server, ref: str = REF) -> tuple[int, opendata.Changes]:
    conn = server.office.bot.app.db.conn
    row = await fetch_one(conn, "SELECT revision FROM reports WHERE ref = ?", (ref,))
    assert row is not None
    return int(row[0]), await opendata.changes(conn)


async def test_every_public_change_moves_updated_datetime(server: Server) -> None:
    office, clock = server.office, server.office.bot.clock
    await office.report_leak()
    filed = await published(server)
    assert updated(filed) == datetime.fromisoformat(filed["requested_datetime"])
    steps = [
        ("vesna", f"/reply {REF} A crew comes tomorrow."),
        ("vesna", f"/progress {REF}"),
        ("vesna", f"/handoff {REF} eds"),
        ("vesna", f"/reopen {REF}"),
        ("vesna", f"/resolve {REF} Pipe replaced."),
    ]
    for user, command in steps:
        clock.advance(hours=3)
        await office.staff(user, command)
        for fmt in ("json", "xml"):
            assert updated(await published(server, fmt=fmt)) == clock.now(), (command, fmt)


async def test_a_merged_duplicate_moves_its_updated_datetime(server: Server) -> None:
    office, clock = server.office, server.office.bot.clock
    await office.report_leak()
    await office.report_leak("mila", again=True)
    clock.advance(hours=5)
    await office.staff("vesna", f"/dup {SECOND} {REF}")
    merged = await published(server, SECOND)
    assert merged["status"] == "closed"
    assert updated(merged) == clock.now()


async def test_an_internal_note_changes_nothing_the_public_sees(server: Server) -> None:
    office, clock = server.office, server.office.bot.clock
    await office.report_leak()
    await office.staff("vesna", f"/progress {REF} A crew is on its way.")
    before = await published(server)
    kept, counted = await revision(server)
    clock.advance(hours=2)
    assert "Internal note" in (await office.staff("vesna", f"/note {REF} Call Ana back."))[0]
    assert await published(server) == before
    assert await revision(server) == (kept, counted)
    clock.advance(hours=2)
    await office.staff("vesna", f"/reply {REF} Tomorrow morning.")
    answered, after = await revision(server)
    assert answered > kept
    assert after.any > counted.any
    assert after.figures == counted.figures  # an answer moves neither the map nor the figures
    assert updated(await published(server)) == clock.now()


async def test_the_triggers_name_the_public_history_s_kinds(server: Server) -> None:
    rows = await fetch_all(
        server.office.bot.app.db.conn,
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'report_events'",
    )
    kinds = "IN (" + ", ".join(f"'{k}'" for k in opendata.PUBLIC_EVENT_KINDS) + ")"
    assert sorted(r[0] for r in rows) == [
        "report_revision_on_event_delete",
        "report_revision_on_event_insert",
        "report_revision_on_event_update",
    ]
    assert all(kinds in r[1] for r in rows)


async def test_a_report_answered_before_the_upgrade_gets_its_last_public_change(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.db"
    build_at(path, 25)
    raw = sqlite3.connect(path)
    raw.executescript(
        "BEGIN; INSERT INTO report_events (report_id, at, actor_id, kind, text, public) VALUES"
        " (1, '2026-03-04T10:00:00.000000+00:00', 2, 'reply', 'Сутра', 1),"
        " (1, '2026-03-05T10:00:00.000000+00:00', 2, 'note', 'Интерно', 0); COMMIT;"
    )
    raw.close()
    db = await Database.open(path)
    try:
        await db.migrate()
        row = await fetch_one(db.conn, "SELECT updated_at FROM reports WHERE id = 1")
    finally:
        await db.close()
    assert row is not None
    assert row[0] == "2026-03-04T10:00:00.000000+00:00"

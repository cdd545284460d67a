"""What the open data keeps between requests (each report's published text by its revision, the
site's map, lists and scorecards by the database's counters) never outlives a change: a staff
answer shows at once, and a report made not public, or anonymised by an erasure, is gone at once
from every list and from the first page, while the kept texts of the other reports serve."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import runtime
from bot import web as public_web
from bot.settings import Settings
from bot.web.formats import item_text, respond, respond_items
from bot.web.open311 import OpenData
from storage import opendata, reports
from storage.sql import fetch_one
from tests.conftest import REF, Office, Press
from tests.test_open311 import KEY, api_settings

OTHER = "VLA-2026-00002"
DESCRIPTION = "Water is gushing from a pipe on the corner"
VARIANTS = [
    ("json", {}), ("xml", {}), ("json", {"extensions": "true"}), ("xml", {"extensions": "true"}),
]  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@dataclass
class Served:
    office: Office
    data: OpenData
    base: str
    session: aiohttp.ClientSession

    async def get(self, path: str, **params: str) -> str:
        async with self.session.get(self.base + path, params=params) as answer:
            assert answer.status == 200, path
            return await answer.text()

    async def lists(self) -> list[str]:
        """GET requests in both formats, with and without the extensions."""
        return [await self.get(f"/open311/v2/requests.{f}", **p) for f, p in VARIANTS]

    async def page(self) -> str:
        return await self.get("/", lang="en")


@contextlib.asynccontextmanager
async def serving(office: Office, settings: Settings) -> AsyncIterator[Served]:
    routes = runtime.web_app()
    data = public_web.add_routes(routes, settings, office.bot.app)
    runner = await runtime.serve(routes, settings)
    try:
        async with aiohttp.ClientSession() as session:
            yield Served(office, data, f"http://127.0.0.1:{settings.http_port}", session)
    finally:
        await runner.cleanup()


@pytest.fixture
async def served(office: Office, settings: Settings) -> AsyncIterator[Served]:
    async with serving(office, settings) as s:
        yield s


async def two_reports(served: Served) -> None:
    """The resident's leak (acknowledged, with a photo) and a report filed through the API."""
    await served.office.report_leak()
    await served.office.staff("vesna", f"/ack {REF}")
    async with served.session.post(
        served.base + "/open311/v2/requests.json",
        data={"api_key": KEY, "service_code": "water_sewage", "lat": "42.9671",
              "long": "22.1301", "description": "No water pressure in the building"},
    ) as answer:  # fmt: skip
        assert answer.status == 201, await answer.text()


def open_now(page: str) -> list[int]:
    """The "Open now" figure of each scorecard on the first page."""
    return [int(n) for n in re.findall(r"Open now</dt><dd>(\d+)</dd>", page)]


async def test_a_kept_text_never_outlives_a_change_of_its_report(served: Served) -> None:
    office = served.office
    await two_reports(served)
    first = await served.lists()
    assert all(DESCRIPTION in body and OTHER in body for body in first)
    assert len(served.data.texts) == 8  # two reports, four variants each

    # A staff answer changes neither the report's row nor its updated_at: only its history.
    await office.staff("vesna", f"/reply {REF} Tomorrow morning.")
    answered = await served.lists()
    assert ["Tomorrow morning." in body for body in answered] == [False, False, True, True]
    notes = json.loads(answered[2])[-1]["notes"]
    assert notes[-1]["description"] == "Tomorrow morning."

    # An erasure anonymises the resident's report in place (its updated_at stays as it was).
    await office.bot.say("ana", "/deleteme")
    told = await office.bot.say("ana", Press("erase:yes"))
    assert "Your personal data is erased." in told[0].text
    erased = await served.lists()
    for body in erased:
        assert DESCRIPTION not in body
        assert REF in body
        assert OTHER in body
    anonymised = next(r for r in json.loads(erased[0]) if r["service_request_id"] == REF)
    assert anonymised["description"] == ""
    assert anonymised["media_url"] is None  # its photo was erased with it

    # Not public: gone from every list at once; the other report's kept text still serves.
    await office.staff("vesna", f"/private {OTHER}")
    private = await served.lists()
    assert all(OTHER not in body and REF in body for body in private)


async def test_the_first_page_shows_every_change_at_once(served: Served) -> None:
    office = served.office
    await two_reports(served)
    page = await served.page()
    assert DESCRIPTION in page
    assert OTHER in page
    assert sum(open_now(page)) == 2

    await office.staff("vesna", f"/reply {REF} Tomorrow morning.")
    assert "Tomorrow morning." in await served.page()
    await office.staff("vesna", f"/resolve {OTHER} Pressure restored.")
    assert sum(open_now(await served.page())) == 1  # the scorecards count it at once
    await office.bot.say("ana", "/deleteme")
    await office.bot.say("ana", Press("erase:yes"))
    assert DESCRIPTION not in await served.page()
    await office.staff("vesna", f"/private {OTHER}")
    page = await served.page()
    assert OTHER not in page
    assert REF in page


async def test_the_database_raises_the_revision_with_every_change(office: Office) -> None:
    await office.report_leak()
    db = office.bot.app.db

    async def now() -> tuple[int, opendata.Changes]:
        row = await fetch_one(db.conn, "SELECT revision FROM reports WHERE id = 1")
        assert row is not None
        return int(row[0]), await opendata.changes(db.conn)

    revision, counted = await now()
    assert revision > 0
    async with db.transaction() as conn:  # an internal note: nothing public changes
        await reports.add_event(conn, 1, "note", actor_id=None, now=office.bot.clock.now())
    assert await now() == (revision, counted)
    async with db.transaction() as conn:  # an answer: public history, no figure of the scorecards
        await reports.add_event(conn, 1, "reply", actor_id=None, now=office.bot.clock.now())
    noted, after_note = await now()
    assert noted > revision
    assert after_note.any > counted.any
    assert after_note.figures == counted.figures
    await office.staff("vesna", f"/ack {REF}")
    acked, after_ack = await now()
    assert acked > noted
    assert after_ack.figures > after_note.figures
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM report_photos WHERE report_id = 1")
    unphotographed, _ = await now()
    assert unphotographed > acked


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_list_joined_from_its_items_is_the_list_written_whole(fmt: str) -> None:
    items: list[dict[str, Any]] = [
        {"service_request_id": "VLA-2026-00001", "description": 'Рупа <b>&"\'</b>',
         "lat": 42.9661, "media_url": None, "metadata": False,
         "notes": [{"type": "status", "description": "у раду"}]},
        {"service_request_id": "VLA-2026-00002", "description": "", "notes": []},
    ]  # fmt: skip
    for listed in (items, []):
        whole = respond(fmt, "service_requests", listed)
        texts = [item_text(fmt, "service_requests", item) for item in listed]
        joined = respond_items(fmt, "service_requests", texts)
        assert joined.body == whole.body
        assert joined.content_type == whole.content_type

"""A report's last change (Open311's ``updated_datetime``) is the same in the API (read by the
``georeport`` client), in reports.csv and GeoJSON (``updated``) and on the site ("Last change"):
while the report is open, its last public change (a status change, a public answer); once it is
closed, the moment it was closed, as GeoReport v2 says: a public answer given after that is in the
report's history and in the updates, and moves nothing else; reopened, the report moves again."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.web import datasets
from handlers.i18n import translator
from tests.conftest import REF, Office
from tests.test_open311 import Server, api_settings
from tests.test_opendata_responsible import serving


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


async def in_the_api(server: Server) -> datetime:
    """``updated_datetime`` as the georeport client reads it (JSON and XML agree)."""
    times = set()
    for fmt in ("json", "xml"):
        found: Any = await asyncio.to_thread(server.client(fmt).get_service_request, REF)
        one = found[0] if isinstance(found, list) else found
        times.add(datetime.fromisoformat(one["updated_datetime"]))
    [moment] = times
    return moment


async def in_the_data_sets(server: Server) -> datetime:
    """``updated`` in reports.csv (the GeoJSON says the same)."""
    app = server.office.bot.app
    now = server.office.bot.clock.now()
    files = (await datasets.build(app.db.reader, app.deps.municipality, now, "https://o")).files
    [row] = csv.DictReader(io.StringIO(files["reports.csv"].decode("utf-8-sig")))
    [feature] = json.loads(files["reports.geojson"])["features"]
    assert feature["properties"]["updated"] == row["updated"]
    return datetime.fromisoformat(row["updated"])


async def on_the_site(server: Server) -> str:
    """The day the site's list says the report last changed (English page)."""
    root = server.root.removesuffix("/open311/v2")
    async with server.session.get(f"{root}/", params={"lang": "en"}) as answer:
        page = html.unescape(await answer.text())
    found = re.search(rf'<li id="report-{REF}">.*?<p>Last change: ([^<]+)</p>', page, re.S)
    assert found is not None, page
    return found.group(1)


async def answers_in_the_updates(server: Server) -> int:
    found = await server.get_json("/servicerequestupdates.json")
    return sum(1 for u in found if u["description"] == "We will check it again.")


async def test_the_last_change_agrees_and_a_closed_request_stays_closed_when_answered(
    office: Office, settings: Settings
) -> None:
    clock = office.bot.clock
    day = translator("en", office.bot.app.deps.municipality.timezone).date
    async with serving(office, settings) as server:

        async def everywhere() -> tuple[datetime, datetime, str]:
            return (
                await in_the_api(server),
                await in_the_data_sets(server),
                await on_the_site(server),
            )

        await office.report_leak()
        clock.advance(days=1)
        await office.staff("vesna", f"/reply {REF} A crew comes tomorrow.")
        answered = clock.now()
        assert await everywhere() == (answered, answered, day(answered))
        clock.advance(days=2)
        await office.staff("vesna", f"/resolve {REF} Pipe replaced.")
        resolved = clock.now()
        assert await everywhere() == (resolved, resolved, day(resolved))
        clock.advance(days=3)
        await office.staff("vesna", f"/reply {REF} We will check it again.")
        assert await everywhere() == (resolved, resolved, day(resolved))
        assert await answers_in_the_updates(server) == 1  # the answer itself is published
        clock.advance(days=1)
        await office.staff("vesna", f"/reopen {REF}")
        reopened = clock.now()
        assert await everywhere() == (reopened, reopened, day(reopened))

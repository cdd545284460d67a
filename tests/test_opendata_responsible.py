"""Who is responsible for a report agrees everywhere it is published: once handed over to an
outside body, Open311's ``agency_responsible`` (read by the ``georeport`` client), the open data's
reports.csv and GeoJSON (``service``, ``service_name``) and the site's list name the body, in the
reader's language; reopened, the municipal service again."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import html
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import runtime
from bot import web as public_web
from bot.settings import Settings
from bot.web import datasets
from tests.conftest import REF, Office
from tests.test_open311 import Server, api_settings

WATER = ("water", "ЈКП Водовод и канализација", "JKP Vodovod i kanalizacija")
ROADS = ("putevi", "ЈП „Путеви Србије“", "JP Putevi Srbije (the public enterprise for state roads)")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@contextlib.asynccontextmanager
async def serving(office: Office, settings: Settings) -> AsyncIterator[Server]:
    """The bot's whole public web server: the API, the data sets and the site."""
    routes = runtime.web_app()
    public_web.add_routes(routes, settings, office.bot.app)
    runner = await runtime.serve(routes, settings)
    try:
        async with aiohttp.ClientSession() as session:
            yield Server(office, f"http://127.0.0.1:{settings.http_port}/open311/v2", session)
    finally:
        await runner.cleanup()


async def agency(server: Server) -> str:
    """``agency_responsible`` as the georeport client reads it (JSON and XML agree)."""
    names = set()
    for fmt in ("json", "xml"):
        found: Any = await asyncio.to_thread(server.client(fmt).get_service_request, REF)
        names.add((found[0] if isinstance(found, list) else found)["agency_responsible"])
    [name] = names
    return str(name)


async def data_sets(server: Server) -> tuple[tuple[str, str], tuple[str, str]]:
    """``service`` and ``service_name`` of the report in reports.csv and in reports.geojson."""
    app = server.office.bot.app
    files = (
        await datasets.build(
            app.db.reader, app.deps.municipality, server.office.bot.clock.now(), "https://o.example"
        )
    ).files
    [row] = csv.DictReader(io.StringIO(files["reports.csv"].decode("utf-8-sig")))
    [feature] = json.loads(files["reports.geojson"])["features"]
    shown = feature["properties"]
    return (row["service"], row["service_name"]), (shown["service"], shown["service_name"])


async def on_the_site(server: Server, language: str) -> str:
    """The report's line in the site's list of recent reports, as text."""
    root = server.root.removesuffix("/open311/v2")
    async with server.session.get(f"{root}/", params={"lang": language}) as answer:
        page = await answer.text()
    found = re.search(rf'<li id="report-{REF}">\s*<details>\s*<summary>(.*?)</summary>', page, re.S)
    assert found is not None, page
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


async def test_every_publication_names_who_is_responsible(
    office: Office, settings: Settings
) -> None:
    async with serving(office, settings) as server:
        await office.report_leak()
        for command, (code, name, latin) in [
            (None, WATER),
            (f"/handoff {REF} putevi", ROADS),
            (f"/reopen {REF}", WATER),
        ]:
            if command:
                await office.staff("vesna", command)
            assert await agency(server) == name, command
            assert await data_sets(server) == ((code, name), (code, name)), command
            assert f" · {name} · " in await on_the_site(server, "sr"), command
            english = await on_the_site(server, "en")
            assert f" · {latin} · " in english, command

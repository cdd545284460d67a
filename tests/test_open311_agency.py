"""Who a client is told is responsible (Open311's ``agency_responsible``): the municipal service,
or, once a report is handed over, the outside body it was handed to, named in the API's language,
in both formats, in a list and alone; a reopened report is the service's again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from tests.conftest import REF, Office
from tests.test_open311 import KEY, Server, api_settings, serving

WATER = "ЈКП Водовод и канализација"
EDS = "Електродистрибуција Србије — Огранак Електродистрибуција Лесковац"
STATE_ROADS = "ЈП „Путеви Србије“"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
async def server(office: Office, settings: Settings) -> AsyncIterator[Server]:
    async with serving(office, settings) as served:
        yield served


async def agencies(server: Server, ref: str = REF) -> set[str]:
    """``agency_responsible`` as the ``georeport`` client reads it: alone and in the list, in
    JSON and XML."""
    seen = set()
    for fmt in ("json", "xml"):
        client = server.client(fmt)
        single: Any = await asyncio.to_thread(client.get_service_request, ref)
        listed: Any = await asyncio.to_thread(client.get_service_requests, service_request_id=ref)
        for found in (single, listed):
            one = found[0] if isinstance(found, list) else found  # xmltodict: one item is no list
            seen.add(one["agency_responsible"])
    return seen


async def test_a_handed_off_report_names_the_body_it_was_handed_to(server: Server) -> None:
    office = server.office
    await office.report_leak()
    assert await agencies(server) == {WATER}
    await office.staff("vesna", f"/handoff {REF} putevi")
    assert await agencies(server) == {STATE_ROADS}
    await office.staff("vesna", f"/reopen {REF}")
    assert await agencies(server) == {WATER}
    await office.staff("vesna", f"/handoff {REF} eds")
    assert await agencies(server) == {EDS}


async def test_a_report_forwarded_when_filed_names_its_body(server: Server) -> None:
    status, body = await server.post(
        api_key=KEY, service_code="power_supply", lat="42.9661", long="22.1290",
        description="A power line hangs low over the street",
    )  # fmt: skip
    assert status == 201, body
    ref = json.loads(body)[0]["service_request_id"]
    assert await agencies(server, ref) == {EDS}

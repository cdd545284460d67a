"""What a city's dashboard reading the API with a real client (``georeport``) or a browser would
trip on: the filters that the spec lets be declared several times, the lookup of several ids at
once, the jurisdiction sent on every call, and an answer a page on another site may read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import requests
from georeport import GeoReport

from bot.settings import Settings
from tests.conftest import REF, Office
from tests.test_open311 import Server, api_settings, serving

SECOND, THIRD = "VLA-2026-00002", "VLA-2026-00003"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
async def server(office: Office, settings: Settings) -> AsyncIterator[Server]:
    async with serving(office, settings) as served:
        yield served


async def three_reports(server: Server) -> None:
    """Two leaks (the second resolved) and a third report, made not public."""
    office = server.office
    await office.report_leak()
    await office.report_leak("mila", again=True)
    await office.staff("vesna", f"/resolve {SECOND} Fixed.")
    await office.report_leak("boss", again=True)
    await office.staff("vesna", f"/private {THIRD}")


async def ids(server: Server, *params: tuple[str, str]) -> list[str]:
    async with server.session.get(f"{server.root}/requests.json", params=list(params)) as r:
        assert r.status == 200, await r.text()
        return [x["service_request_id"] for x in json.loads(await r.text())]


async def test_status_and_service_code_may_be_declared_several_times(server: Server) -> None:
    await three_reports(server)
    both = [REF, SECOND]
    assert sorted(await ids(server, ("status", "open"), ("status", "closed"))) == both
    assert await ids(server, ("status", "closed"), ("status", "closed")) == [SECOND]
    assert (
        sorted(await ids(server, ("service_code", "road_damage"), ("service_code", "water_sewage")))
        == both
    )
    assert await ids(server, ("service_code", "road_damage"), ("status", "open")) == []


async def test_several_ids_at_once_as_a_list_or_declared_several_times(server: Server) -> None:
    await three_reports(server)
    client = server.client("json")
    found: Any = await asyncio.to_thread(
        client.get_service_requests,
        service_request_id=f" {REF.lower()}, {SECOND},{THIRD},VLA-2026-09999,{REF}",
        status="open",  # the ids override every other filter
    )
    assert sorted(r["service_request_id"] for r in found) == [REF, SECOND]
    assert sorted(
        await ids(server, ("service_request_id", REF), ("service_request_id", SECOND))
    ) == [REF, SECOND]


async def test_the_jurisdiction_can_be_sent_on_every_call(server: Server) -> None:
    await three_reports(server)
    for fmt in ("json", "xml"):
        ours = GeoReport(server.root, jurisdiction="vla", output_format=fmt)
        assert await asyncio.to_thread(ours.get_service_list)
        assert await asyncio.to_thread(ours.get_service_definition, "water_sewage")
        assert await asyncio.to_thread(ours.get_service_requests)
        assert await asyncio.to_thread(ours.get_service_request, REF)
        other = GeoReport(server.root, jurisdiction="bgd", output_format=fmt)
        with pytest.raises(requests.HTTPError) as refused:
            await asyncio.to_thread(other.get_service_requests)
        assert refused.value.response.status_code == 404


async def test_a_page_on_another_site_may_read_the_answers(server: Server) -> None:
    await three_reports(server)
    for path in ("/services.json", "/requests.xml", f"/requests/{REF}.json", "/discovery.json"):
        for _ in range(2):  # fresh, then the kept answer
            async with server.session.get(server.root + path) as answer:
                assert answer.status == 200
                assert answer.headers.get("Access-Control-Allow-Origin") == "*", path

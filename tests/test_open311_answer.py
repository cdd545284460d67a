"""What a POST requests answers: GeoReport v2 returns ``service_request_id`` when the id is known
at once, and a ``token`` only when it is not (the request is queued). Ours is known at once, so the
answer carries the id and no token; ``GET tokens/{token}`` still answers the tokens given before,
and no token is stored that no client was ever given. The georeport client cannot send a request
(raw HTTP), and reads what was filed."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from storage.sql import fetch_all
from tests.conftest import REF, Office
from tests.test_open311 import KEY, Server, api_settings, serving

LEAK = {
    "api_key": KEY, "service_code": "water_sewage", "lat": "42.9661", "long": "22.1290",
    "description": "A leak by the bus stop", "account_id": "acc-7",
}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
async def server(office: Office, settings: Settings) -> AsyncIterator[Server]:
    async with serving(office, settings) as served:
        yield served


def answer_of(fmt: str, body: str) -> dict[str, Any]:
    """The one request of a POST's answer, as its fields."""
    if fmt == "json":
        [answer] = json.loads(body)
        return dict(answer)
    root = ET.fromstring(body)  # noqa: S314 - our own server's answer
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    return {child.tag: child.text for child in request}


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_filed_request_answers_its_id_and_no_token(server: Server, fmt: str) -> None:
    status, body = await server.post(fmt, **LEAK)
    assert status == 201, body
    answer = answer_of(fmt, body)
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["service_request_id"] == REF
    assert answer["account_id"] == "acc-7"
    found: Any = await asyncio.to_thread(server.client(fmt).get_service_request, REF)
    one = found[0] if isinstance(found, list) else found  # xmltodict: one item is no list
    assert one["service_request_id"] == REF
    conn = server.office.bot.app.db.conn
    assert await fetch_all(conn, "SELECT token FROM open311_tokens") == []


async def test_a_token_given_before_still_answers_its_request(server: Server) -> None:
    assert (await server.post(**LEAK))[0] == 201
    async with server.office.bot.app.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO open311_tokens (token, report_id, client, created_at)"
            " VALUES ('given-earlier', 1, 'fixmystreet', '2026-05-01T08:00:00+00:00')"
        )
    assert await server.get_json("/tokens/given-earlier.json") == [
        {"service_request_id": REF, "token": "given-earlier"}
    ]
    status, _, body = await server.get("/tokens/never-given.xml")
    assert status == 404
    assert "no such token" in body

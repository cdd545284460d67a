"""Filing through Open311 (POST requests) refused as the spec says: 403 for the key, 404 for a
service or jurisdiction that does not exist, 400 for everything else (a missing service, a bad or
outside place, a description too long, even one too large for the server to read, the same
request sent again), always in Open311's error form of the format asked for; nothing is filed.
The georeport client cannot send a request, so these go as raw HTTP."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.runtime import MAX_BODY_BYTES
from bot.settings import Settings
from storage.sql import fetch_all
from tests.conftest import REF, Office
from tests.test_open311 import KEY, Server, api_settings, serving

LEAK = {
    "api_key": KEY, "service_code": "water_sewage", "lat": "42.9661", "long": "22.1290",
    "description": "A leak by the bus stop",
}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
async def server(office: Office, settings: Settings) -> AsyncIterator[Server]:
    async with serving(office, settings) as served:
        yield served


def error_of(fmt: str, body: str) -> tuple[int, str]:
    """The one error of an Open311 error answer: its code and description."""
    if fmt == "json":
        [error] = json.loads(body)
        return int(error["code"]), str(error["description"])
    root = ET.fromstring(body)  # noqa: S314 - our own server's answer
    assert root.tag == "errors"
    [error] = root.findall("error")
    return int(error.findtext("code") or 0), error.findtext("description") or ""


async def filed(server: Server) -> list[str]:
    rows = await fetch_all(server.office.bot.app.db.conn, "SELECT ref FROM reports ORDER BY id")
    return [str(r[0]) for r in rows]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_each_refusal_is_open311_s_and_files_nothing(server: Server, fmt: str) -> None:
    no_code = {k: v for k, v in LEAK.items() if k != "service_code"}
    cases = [
        ({k: v for k, v in LEAK.items() if k != "api_key"}, 403, "api_key"),
        ({**LEAK, "api_key": "not-a-key"}, 403, "api_key"),
        (no_code, 400, "service_code: required"),
        ({**no_code, "service_code": ""}, 400, "service_code: required"),
        ({**LEAK, "service_code": "unicorns"}, 404, "service_code unicorns: no such service"),
        ({**LEAK, "jurisdiction_id": "bgd"}, 404, "jurisdiction_id"),
        ({**LEAK, "lat": "north"}, 400, "lat: not a number"),
        ({**LEAK, "lat": "nan"}, 400, "not a valid location"),
        ({**LEAK, "lat": "0", "long": "0"}, 400, "not a valid location"),
        ({k: v for k, v in LEAK.items() if k != "long"}, 400, "lat and long"),
        ({**LEAK, "lat": "44.8125", "long": "20.4612"}, 400, "outside the municipality"),
        ({**LEAK, "description": "x" * 4001}, 400, "description"),
    ]
    for form, code, words in cases:
        status, body = await server.post(fmt, **form)
        assert status == code, (form, body)
        assert error_of(fmt, body)[0] == code
        assert words in error_of(fmt, body)[1], (form, body)
    assert await filed(server) == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_description_too_large_to_read_is_refused_in_open311_s_form(
    server: Server, fmt: str
) -> None:
    form = urlencode({**LEAK, "description": "x" * MAX_BODY_BYTES}).encode()
    async with server.session.post(
        f"{server.root}/requests.{fmt}", data=io.BytesIO(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as answer:  # fmt: skip
        status, body = answer.status, await answer.text()
    assert status == 400, body
    code, description = error_of(fmt, body)
    assert code == 400
    assert "4,000 characters" in description
    assert await filed(server) == []


async def test_the_same_request_sent_again_is_not_filed_twice(server: Server) -> None:
    first = await server.post(**LEAK)
    assert first[0] == 201, first
    again = await server.post(**LEAK)
    assert again[0] == 400, again
    code, description = error_of("json", again[1])
    assert code == 400
    assert f"duplicate: the same request was filed as {REF}" in description
    elsewhere = await server.post(**{**LEAK, "lat": "42.9700"})
    assert elsewhere[0] == 201, elsewhere
    someone_else = await server.post(**{**LEAK, "first_name": "Mila"})
    assert someone_else[0] == 201, someone_else
    server.office.bot.clock.advance(hours=2)
    later = await server.post(**LEAK)
    assert later[0] == 201, later
    assert await filed(server) == [REF, "VLA-2026-00002", "VLA-2026-00003", "VLA-2026-00004"]


async def test_an_unknown_path_or_method_under_the_api_answers_in_open311_s_form(
    server: Server,
) -> None:
    for fmt in ("json", "xml"):
        status, kind, body = await server.get(f"/request.{fmt}")
        assert status == 404, body
        assert kind.startswith("application/json" if fmt == "json" else "text/xml")
        assert error_of(fmt, body)[0] == 404
    async with server.session.delete(f"{server.root}/requests.json") as answer:
        assert answer.status == 400
        assert error_of("json", await answer.text())[0] == 400

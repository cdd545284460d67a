"""A request whose body does not arrive in time is answered 408 and its connection closed: under
the Open311 API in Open311's error form of the format asked for (JSON or XML), elsewhere (a
webhook) in words that say what happened. Sent as raw bytes: no client sends half a body."""

from __future__ import annotations

import asyncio
import contextlib
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot import runtime
from bot.settings import Settings
from bot.web import open311
from tests.conftest import Office
from tests.test_open311 import api_settings

BODY_TIMEOUT_S = 0.5


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@contextlib.asynccontextmanager
async def serving(office: Office, settings: Settings) -> AsyncIterator[int]:
    """The API and a webhook on the bot's web server, with a short body timeout; its port."""
    routes = runtime.web_app(body_timeout=BODY_TIMEOUT_S)
    open311.add_routes(routes, settings, office.bot.app)

    async def hook(request: web.Request) -> web.Response:
        return web.Response(text=f"{len(await request.read())} bytes")

    routes.router.add_post("/hook", hook)
    runner = await runtime.serve(routes, settings)
    try:
        yield settings.http_port
    finally:
        await runner.cleanup()


async def half_sent(port: int, path: str) -> tuple[str, dict[str, str], str]:
    """POST the whole head and a tenth of the body; the status line, headers and body of the
    answer, read to the end (the server must close the connection)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Length: 100\r\n"
        writer.write(f"{head}Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode())
        writer.write(b"api_key=xx")
        answer = (await asyncio.wait_for(reader.read(), 5)).decode()
    finally:
        writer.close()
    top, _, body = answer.partition("\r\n\r\n")
    status, *lines = top.split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


async def test_a_late_body_under_the_api_is_an_open311_error(
    office: Office, settings: Settings
) -> None:
    async with serving(office, settings) as port:
        status, headers, body = await half_sent(port, "/open311/v2/requests.json")
        assert status.startswith("HTTP/1.1 408"), status
        assert headers["content-type"] == "application/json; charset=utf-8"
        [error] = json.loads(body)
        assert error["code"] == 408
        assert "did not arrive within 0.5 s" in error["description"]
        status, headers, body = await half_sent(port, "/open311/v2/requests.xml")
        assert status.startswith("HTTP/1.1 408"), status
        assert headers["content-type"] == "text/xml; charset=utf-8"
        assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
        root = ET.fromstring(body.encode())  # noqa: S314 - our own server's answer
        assert root.tag == "errors"
        assert root.findtext("error/code") == "408"
        assert "did not arrive within 0.5 s" in (root.findtext("error/description") or "")


async def test_a_late_body_elsewhere_is_told_in_words(office: Office, settings: Settings) -> None:
    async with serving(office, settings) as port:
        status, headers, body = await half_sent(port, "/hook")
    assert status.startswith("HTTP/1.1 408"), status
    assert headers["content-type"].startswith("text/plain")
    assert "did not arrive within 0.5 s" in body
    assert "the connection is closed" in body

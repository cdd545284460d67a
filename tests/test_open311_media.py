"""An Open311 client's ``media_url`` cannot make the server fetch from its own network (SSRF).

Tests reach only 127.0.0.1, so what they prove over HTTP is: loopback, written as an address or
as a name that resolves to it, is refused without a connection unless a setting allows it; a
redirect is checked like the first address; the size and time limits hold. The other ranges
(private, link-local, multicast, reserved, ...) are proved on the checks themselves: the address
rule and the resolver step, with a resolver that answers what a DNS server could.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from PIL import Image

from bot.settings import Settings
from bot.web import media
from tests.conftest import Office, free_port
from tests.test_open311 import KEY, Server, api_settings, serving

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FORM = {"api_key": KEY, "service_code": "garbage", "lat": "42.966", "long": "22.129"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
async def server(office: Office, settings: Settings) -> AsyncIterator[Server]:
    async with serving(office, settings) as served:
        yield served


class PhotoServer:
    """A local web server that counts what it was asked for."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hits: Counter[str] = Counter()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def app(self) -> web.Application:
        raw = io.BytesIO()
        Image.new("RGB", (40, 30), "green").save(raw, format="JPEG")

        async def photo(_: web.Request) -> web.Response:
            return web.Response(body=raw.getvalue(), content_type="image/jpeg")

        async def huge(request: web.Request) -> web.StreamResponse:
            answer = web.StreamResponse()  # chunked: no Content-Length to refuse it by
            await answer.prepare(request)
            for _ in range(11 * 16):
                await answer.write(b"\xff" * 65536)
            return answer

        async def slow(_: web.Request) -> web.Response:
            await asyncio.Event().wait()
            raise AssertionError

        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            self.hits[request.path] += 1
            return await handler(request)

        app = web.Application(middlewares=[count])
        app.router.add_get("/p.jpg", photo)
        app.router.add_get("/huge.jpg", huge)
        app.router.add_get("/slow.jpg", slow)
        app.router.add_get("/to-photo", _redirecting("/p.jpg"))
        app.router.add_get("/to-v6-loopback", _redirecting(f"http://[::1]:{self.port}/p.jpg"))
        app.router.add_get("/to-file", _redirecting("file:///etc/passwd"))
        app.router.add_get("/loop", _redirecting("/loop"))
        return app


def _redirecting(to: str) -> Handler:
    async def go(_: web.Request) -> web.Response:
        raise web.HTTPFound(to)

    return go


@pytest.fixture
async def photos() -> AsyncIterator[PhotoServer]:
    served = PhotoServer()
    runner = web.AppRunner(served.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", served.port).start()
    try:
        yield served
    finally:
        await runner.cleanup()


async def refusal(server: Server, url: str) -> tuple[int, str]:
    status, body = await server.post(**FORM, description="Bins overflowing", media_url=url)
    return status, json.loads(body)[0]["description"] if status == 400 else body


async def test_loopback_is_refused_by_default_as_an_address_and_as_a_name(
    office: Office, settings: Settings, photos: PhotoServer
) -> None:
    strict = replace(settings, open311_media_allow=())
    async with serving(office, strict) as server:
        for host in ("127.0.0.1", "localhost", "[::ffff:127.0.0.1]"):
            status, said = await refusal(server, photos.url("/p.jpg", host))
            assert (status, said) == (400, "media_url: an internal address is not fetched"), host
    assert photos.hits["/p.jpg"] == 0  # refused before any connection was made


async def test_each_redirect_is_checked_like_the_first_address(
    server: Server, photos: PhotoServer
) -> None:
    assert await refusal(server, photos.url("/to-v6-loopback")) == (
        400, "media_url: an internal address is not fetched",
    )  # fmt: skip
    assert await refusal(server, photos.url("/to-file")) == (
        400, "media_url: an http or https address",
    )  # fmt: skip
    assert await refusal(server, photos.url("/loop")) == (400, "media_url: too many redirects")
    assert photos.hits["/loop"] == media.MAX_REDIRECTS + 1
    assert photos.hits["/p.jpg"] == 0
    status, _ = await refusal(server, photos.url("/to-photo"))  # an allowed redirect is followed
    assert status == 201
    assert photos.hits["/p.jpg"] == 1


async def test_the_size_and_time_limits_hold(
    server: Server, photos: PhotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await refusal(server, photos.url("/huge.jpg")) == (
        400, "media_url: larger than 10 MB",
    )  # fmt: skip
    monkeypatch.setattr(media, "TIMEOUT_S", 0.3)
    assert await refusal(server, photos.url("/slow.jpg")) == (
        400, "media_url: not fetched within 0.3 s",
    )  # fmt: skip


INTERNAL = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0",  # noqa: S104 - an address refused, not a binding
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "192.0.2.1", "198.18.0.1", "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12::1",
    "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "2001:db8::1", "64:ff9b::a00:1",
]  # fmt: skip
PUBLIC = ["93.184.216.34", "1.1.1.1", "2a00:1450:4001:80b::200e"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused(address: str) -> None:
    with pytest.raises(media.MediaRefusedError):
        media.check_address(address, ())


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_fetched(address: str) -> None:
    media.check_address(address, ())


def test_a_setting_allows_one_internal_network_only() -> None:
    allowed = Settings.from_env({"OPEN311_MEDIA_ALLOW": "10.2.0.0/16"}).open311_media_allow
    media.check_address("10.2.3.4", allowed)
    with pytest.raises(media.MediaRefusedError):
        media.check_address("10.3.0.1", allowed)


def test_a_written_address_is_checked_before_aiohttp_skips_the_resolver() -> None:
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fd00::1]/p.jpg"):
        with pytest.raises(media.MediaRefusedError, match="internal"):
            media.checked_url(url, ())
    for url in ("ftp://example.org/p.jpg", "gopher://example.org/", "http:///p.jpg"):
        with pytest.raises(media.MediaRefusedError, match="http or https"):
            media.checked_url(url, ())
    assert media.checked_url("https://photos.example/p.jpg", ()).host == "photos.example"


class Answers(AbstractResolver):
    """What a DNS server (or one that rebinds names to internal addresses) could answer."""

    NAMES: ClassVar[dict[str, list[str]]] = {
        "photos.example": ["93.184.216.34"],
        "intranet.example": ["10.1.2.3"],
        "rebinding.example": ["93.184.216.34", "127.0.0.1"],
        "metadata.example": ["fe80::a9fe:a9fe"],
    }

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.NAMES[host]
        ]

    async def close(self) -> None:
        pass


async def test_the_resolver_refuses_a_name_with_any_internal_address() -> None:
    guarded = media.GuardedResolver((), Answers())
    found = await guarded.resolve("photos.example", 80)
    assert [r["host"] for r in found] == ["93.184.216.34"]
    for name in ("intranet.example", "rebinding.example", "metadata.example"):
        with pytest.raises(media.MediaRefusedError):
            await guarded.resolve(name, 80)

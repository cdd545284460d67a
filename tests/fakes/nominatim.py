"""A fake Nominatim on 127.0.0.1: /search and /reverse over a small table of known places."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class FakeNominatim:
    """Answers like Nominatim's JSON API.

    ``down`` makes it answer 503 like an overloaded server; ``hang`` makes it take each request
    and never answer (until it stops), like a server that is stuck. ``requests`` lists every
    request that reached it, answered or not.
    """

    places: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    down: bool = False
    hang: bool = False
    requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        """The base URL to give the geocoder."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_get("/search", self._search)
        app.router.add_get("/reverse", self._reverse)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop listening (hanging requests are let go first)."""
        self._stopping.set()
        if self._runner:
            await self._runner.cleanup()

    async def _record(self, request: web.Request) -> web.Response | None:
        self.requests.append(dict(request.query) | {"path": request.path})
        if self.hang:
            await self._stopping.wait()
            return web.Response(status=503, text="Stopping")
        if "User-Agent" not in request.headers or "python" in request.headers["User-Agent"].lower():
            return web.json_response({"error": "a real User-Agent is required"}, status=403)
        if self.down:
            return web.Response(status=503, text="Service Unavailable")
        return None

    async def _search(self, request: web.Request) -> web.Response:
        refused = await self._record(request)
        if refused:
            return refused
        q = request.query.get("q", "").lower()
        hits = [
            {"lat": str(lat), "lon": str(lon), "display_name": name, "place_id": i}
            for i, (key, (lat, lon, name)) in enumerate(self.places.items())
            if key.lower() in q
        ]
        return web.json_response(hits[:1])

    async def _reverse(self, request: web.Request) -> web.Response:
        refused = await self._record(request)
        if refused:
            return refused
        lat, lon = float(request.query["lat"]), float(request.query["lon"])
        for plat, plon, name in self.places.values():
            if abs(plat - lat) < 0.01 and abs(plon - lon) < 0.01:
                return web.json_response({"lat": str(plat), "lon": str(plon), "display_name": name})
        return web.json_response({"error": "Unable to geocode"})

"""Nominatim through geopy's aiohttp adapter, at most 1 request/s, answers cached in SQLite."""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import urlsplit

from geopy.adapters import AioHTTPAdapter
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import AsyncRateLimiter
from geopy.geocoders import Nominatim

from handlers.municipality import Municipality
from handlers.ports import Clock, GeocoderUnavailableError, Place
from storage import geocache
from storage.db import Database
from storage.geocache import CachedPlace

log = logging.getLogger(__name__)
KM_PER_DEGREE = 111.0


def _place(cached: CachedPlace) -> Place | None:
    if cached.latitude is None or cached.longitude is None or cached.address is None:
        return None
    return Place(cached.latitude, cached.longitude, cached.address)


def is_on_earth(latitude: float, longitude: float) -> bool:
    """Whether a point can exist: finite, latitude within ±90 and longitude within ±180."""
    return all(map(math.isfinite, (latitude, longitude))) and (
        abs(latitude) <= 90 and abs(longitude) <= 180
    )


class NominatimGeocoder:
    """Looks addresses up within the municipality; the cache makes a repeated address free."""

    def __init__(
        self,
        db: Database,
        municipality: Municipality,
        clock: Clock,
        *,
        url: str,
        user_agent: str,
        timeout: float,
    ) -> None:
        parts = urlsplit(url)
        self._db = db
        self._clock = clock
        self._municipality = municipality
        self._nominatim = Nominatim(
            domain=parts.netloc + parts.path.rstrip("/"),
            scheme=parts.scheme or "https",
            user_agent=user_agent,
            timeout=timeout,
            adapter_factory=AioHTTPAdapter,
        )
        # Nominatim's usage policy: at most one request per second.
        self._geocode = AsyncRateLimiter(
            self._nominatim.geocode, min_delay_seconds=1.0, max_retries=0, swallow_exceptions=False
        )
        self._reverse = AsyncRateLimiter(
            self._nominatim.reverse, min_delay_seconds=1.0, max_retries=0, swallow_exceptions=False
        )

    async def geocode(self, query: str) -> Place | None:
        """Find an address near the municipality."""
        key = "q:" + " ".join(query.lower().split())
        cached = await self._cached(key)
        if cached is not None:
            return _place(cached)
        m = self._municipality
        found = await self._call(
            self._geocode,
            f"{query}, {m.name_latn}",
            viewbox=self._viewbox(),
            bounded=False,
            country_codes="rs",
            language="sr-Latn",
        )
        place = Place(found.latitude, found.longitude, found.address) if found else None
        await self._store(key, place)
        return place

    async def reverse(self, latitude: float, longitude: float) -> str | None:
        """Name the address at a point; None when it is unknown or the service is down.

        A point that cannot exist (NaN, infinite, beyond the poles or the date line), as a client
        may send, is unknown without asking: geopy refuses it with a ValueError.
        """
        if not is_on_earth(latitude, longitude):
            return None
        key = f"r:{latitude:.5f},{longitude:.5f}"
        cached = await self._cached(key)
        if cached is not None:
            return cached.address
        try:
            found = await self._call(self._reverse, (latitude, longitude), language="sr-Latn")
        except GeocoderUnavailableError:
            return None
        place = Place(latitude, longitude, found.address) if found else None
        await self._store(key, place)
        return place.address if place else None

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except (TimeoutError, GeopyError, OSError) as e:
            log.warning("geocoder unavailable: %s", type(e).__name__)
            raise GeocoderUnavailableError from e

    def _viewbox(self) -> tuple[tuple[float, float], tuple[float, float]]:
        m = self._municipality
        d = m.radius_km / KM_PER_DEGREE
        return (
            (m.center_lat - d, m.center_lon - d * 1.4),
            (m.center_lat + d, m.center_lon + d * 1.4),
        )

    async def _cached(self, key: str) -> CachedPlace | None:
        return await geocache.get(self._db.reader, key)

    async def _store(self, key: str, place: Place | None) -> None:
        cached = CachedPlace(
            place is not None,
            place.latitude if place else None,
            place.longitude if place else None,
            place.address if place else None,
        )
        async with self._db.transaction() as conn:
            await geocache.put(conn, key, cached, self._clock.now())

    async def close(self) -> None:
        """Close the HTTP session."""
        adapter = getattr(self._nominatim, "adapter", None)
        if adapter is not None:
            await adapter.__aexit__(None, None, None)

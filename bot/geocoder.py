"""Nominatim through geopy's aiohttp adapter, at most 1 request/s, answers cached in SQLite.

When Nominatim does not answer several times in a row, a circuit breaker stops asking it for a
minute (then tries one request): a dead geocoder costs a resident nothing but the address kept as
typed, instead of a turn in the one-a-second queue and then a timeout each.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from geopy.adapters import AioHTTPAdapter
from geopy.exc import GeocoderQueryError, GeopyError
from geopy.geocoders import Nominatim

from handlers.municipality import Municipality
from handlers.ports import Clock, GeocoderUnavailableError, Place
from storage import geocache
from storage.db import Database
from storage.geocache import CachedPlace

log = logging.getLogger(__name__)
KM_PER_DEGREE = 111.0
FAILURES_TO_OPEN = 3
COOL_DOWN = timedelta(seconds=60)
MIN_DELAY_S = 1.0


class CircuitBreaker:
    """Stops asking a service that failed several times in a row, and tries it again after a pause.

    Closed, every call may go. After ``failures`` failures in a row it opens: no call goes until
    ``cool_down`` has passed on the clock. Then one trial call goes (the others are still refused)
    and its outcome closes the breaker, or opens it for another pause. The log says when it opens
    and when the service answers again, once each.
    """

    def __init__(
        self, clock: Clock, *, failures: int = FAILURES_TO_OPEN, cool_down: timedelta = COOL_DOWN
    ) -> None:
        self._clock = clock
        self._threshold = failures
        self._cool_down = cool_down
        self._failures = 0
        self._open_until: datetime | None = None
        self._trial = False

    def refuses(self) -> bool:
        """Whether a call would be refused now: open and pausing, or the trial is under way."""
        if self._open_until is None:
            return False
        return self._trial or self._clock.now() < self._open_until

    def admit(self) -> bool:
        """Let a call go if it may; the first call after a pause is the trial."""
        if self.refuses():
            return False
        self._trial = self._open_until is not None
        return True

    def succeeded(self) -> None:
        """The service answered: close."""
        if self._open_until is not None:
            log.info("geocoder answers again")
        self._failures, self._open_until, self._trial = 0, None, False

    def failed(self, error: str) -> None:
        """The service did not answer: count it; open after too many, or when the trial failed."""
        self._failures += 1
        if self._trial:
            self._trial = False
            self._open_until = self._clock.now() + self._cool_down
            log.debug("geocoder still unavailable (%s)", error)
        elif self._open_until is None and self._failures >= self._threshold:
            self._open_until = self._clock.now() + self._cool_down
            log.warning(
                "geocoder unavailable %d times in a row (last: %s); not asking it for %d s",
                self._failures, error, self._cool_down.total_seconds(),
            )  # fmt: skip
        else:
            log.debug("geocoder unavailable (%s)", error)

    def abandoned(self) -> None:
        """A call ended without an answer either way (cancelled): let the next one be the trial."""
        self._trial = False


class RequestGate:
    """Starts requests at least ``interval`` seconds apart, in the order they came.

    That is Nominatim's usage policy, as geopy's AsyncRateLimiter keeps it; but here a request
    that the breaker refuses takes no turn, so when it opens, all who wait in the queue are
    answered at once rather than one a second.
    """

    def __init__(self, breaker: CircuitBreaker, interval: float = MIN_DELAY_S) -> None:
        self._breaker = breaker
        self._interval = interval
        self._turns = asyncio.Lock()
        self._next_start = 0.0

    async def wait_turn(self) -> None:
        """Wait for this request's turn.

        Raises:
            GeocoderUnavailableError: the breaker refuses the request, before or after the wait.
        """
        if self._breaker.refuses():
            raise GeocoderUnavailableError
        async with self._turns:
            loop = asyncio.get_running_loop()
            delay = self._next_start - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self._breaker.admit():
                raise GeocoderUnavailableError
            self._next_start = loop.time() + self._interval


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
        self._breaker = CircuitBreaker(clock)
        # One queue for both kinds of request: the policy's one a second is per client.
        self._gate = RequestGate(self._breaker)

    async def geocode(self, query: str) -> Place | None:
        """Find an address near the municipality."""
        key = "q:" + " ".join(query.lower().split())
        cached = await self._cached(key)
        if cached is not None:
            return _place(cached)
        m = self._municipality
        found = await self._call(
            self._nominatim.geocode,
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
            found = await self._call(
                self._nominatim.reverse, (latitude, longitude), language="sr-Latn"
            )
        except GeocoderUnavailableError:
            return None
        place = Place(latitude, longitude, found.address) if found else None
        await self._store(key, place)
        return place.address if place else None

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Make one request in its turn, unless the breaker is open; tell the breaker the outcome.

        Raises:
            GeocoderUnavailableError: the breaker refused it, or the service did not answer.
        """
        await self._gate.wait_turn()
        try:
            found = await fn(*args, **kwargs)
        except GeocoderQueryError as e:  # the service is there; it refused this one query
            self._breaker.succeeded()
            raise GeocoderUnavailableError from e
        except (TimeoutError, GeopyError, OSError) as e:
            self._breaker.failed(type(e).__name__)
            raise GeocoderUnavailableError from e
        except BaseException:
            self._breaker.abandoned()
            raise
        self._breaker.succeeded()
        return found

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

"""The real Nominatim geocoder (geopy over aiohttp) against a fake Nominatim on loopback."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.geocoder import NominatimGeocoder
from handlers.municipality import Municipality
from handlers.ports import GeocoderUnavailableError
from storage.db import Database
from tests.conftest import Bot, Pin, Press
from tests.fakes.nominatim import FakeNominatim
from tests.fakes.ports import FakeClock

SCHOOL = (42.9660, 22.1290, "Основна школа, Немањина, Власотинце")


@pytest.fixture
async def nominatim() -> AsyncIterator[FakeNominatim]:
    fake = FakeNominatim({"nemanjina": SCHOOL})
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def geocoder(
    tmp_path: Path, nominatim: FakeNominatim, municipality: Municipality
) -> AsyncIterator[NominatimGeocoder]:
    db = await Database.open(tmp_path / "bot.db")
    real = NominatimGeocoder(
        db,
        municipality,
        FakeClock(),
        url=nominatim.url,
        user_agent="moja-opstina-tests/1.0",
        timeout=2,
    )
    yield real
    await real.close()
    await db.close()


async def test_an_address_is_found_and_then_served_from_the_cache(
    geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    place = await geocoder.geocode("Nemanjina 12")
    assert place is not None
    assert (place.latitude, place.longitude, place.address) == SCHOOL
    again = await geocoder.geocode("  nemanjina   12 ")
    assert again == place
    searches = [r for r in nominatim.requests if r["path"] == "/search"]
    assert len(searches) == 1
    assert "Vlasotince" in searches[0]["q"]
    assert searches[0]["countrycodes"] == "rs"


async def test_an_unknown_address_is_none_and_cached(
    geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    assert await geocoder.geocode("Nowhere 1") is None
    assert await geocoder.geocode("Nowhere 1") is None
    assert len(nominatim.requests) == 1


async def test_a_server_error_means_unavailable_and_is_not_cached(
    geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    nominatim.down = True
    with pytest.raises(GeocoderUnavailableError):
        await geocoder.geocode("Nemanjina 12")
    assert await geocoder.reverse(42.9660, 22.1290) is None
    nominatim.down = False
    assert await geocoder.geocode("Nemanjina 12") is not None
    assert await geocoder.reverse(42.9660, 22.1290) == SCHOOL[2]


async def test_a_closed_port_means_unavailable(tmp_path: Path, municipality: Municipality) -> None:
    db = await Database.open(tmp_path / "bot.db")
    real = NominatimGeocoder(
        db, municipality, FakeClock(), url="http://127.0.0.1:9", user_agent="t/1", timeout=2
    )
    with pytest.raises(GeocoderUnavailableError):
        await real.geocode("Nemanjina 12")
    await real.close()
    await db.close()


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(math.nan, 22.1), (42.9, math.inf), (-math.inf, math.nan), (95.0, 22.1), (42.9, 190.0)],
)
async def test_a_point_that_cannot_exist_is_called_not_valid_and_not_looked_up(
    bot: Bot, nominatim: FakeNominatim, latitude: float, longitude: float
) -> None:
    # ``bot`` runs on this module's real geocoder (the fixture above replaces the fake one).
    await bot.play(
        "nada",
        [
            ("/start", ["Choose your language"]),
            (Press("lang:en"), ["Language set: English."]),
            (Press("menu:report"), ["What kind of problem is it?"]),
            (Press("cat:other"), ["Describe the problem"]),
            ("A broken bench in the park", ["Send up to 3 photos"]),
            (Press("photos:skip"), ["Where is the problem?"]),
            (Pin(latitude, longitude), ["That location is not valid", "Where is the problem?"]),
            (Pin(42.9665, 22.1285), ["Location received", "Please check your report"]),
        ],
    )
    # Only the real pin was looked up.
    assert [(r["path"], float(r["lat"])) for r in nominatim.requests] == [("/reverse", 42.9665)]


@pytest.fixture
async def stuck_geocoder(
    tmp_path: Path, nominatim: FakeNominatim, municipality: Municipality, clock: FakeClock
) -> AsyncIterator[NominatimGeocoder]:
    """The real geocoder (short timeout) in front of a Nominatim that takes and never answers."""
    db = await Database.open(tmp_path / "stuck.db")
    real = NominatimGeocoder(
        db, municipality, clock, url=nominatim.url, user_agent="moja-opstina-tests/1.0", timeout=0.3
    )
    nominatim.hang = True
    yield real
    await real.close()
    await db.close()


async def open_the_breaker(geocoder: NominatimGeocoder) -> None:
    """Fail three look-ups in a row (each times out), which opens the breaker."""
    for n in range(3):
        with pytest.raises(GeocoderUnavailableError):
            await geocoder.geocode(f"Street {n}")


async def test_after_a_few_timeouts_the_geocoder_is_not_asked_for_a_while(
    stuck_geocoder: NominatimGeocoder,
    nominatim: FakeNominatim,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.geocoder")
    await open_the_breaker(stuck_geocoder)
    assert len(nominatim.requests) == 3
    # 40 residents at once, typing addresses and sharing pins: all answered "unavailable" at once,
    # none of them waits in the queue for a request to the stuck server.
    typed = [stuck_geocoder.geocode(f"Vojvode Mišića {n}") for n in range(20)]
    pins = [stuck_geocoder.reverse(42.96 + n / 1000, 22.13) for n in range(20)]
    results = await asyncio.gather(*typed, *pins, return_exceptions=True)
    assert all(isinstance(r, GeocoderUnavailableError) for r in results[:20]), results[:20]
    assert results[20:] == [None] * 20
    assert len(nominatim.requests) == 3
    clock.advance(seconds=59)
    with pytest.raises(GeocoderUnavailableError):
        await stuck_geocoder.geocode("Nemanjina 12")
    assert len(nominatim.requests) == 3
    # The log says it once, and names no address.
    said = [r.getMessage() for r in caplog.records if r.name == "bot.geocoder"]
    assert len([m for m in said if "not asking it" in m]) == 1, said
    assert not [m for m in said if "Street" in m or "Mišića" in m or "42.9" in m], said


async def test_after_the_pause_one_trial_request_goes_and_its_answer_closes_the_breaker(
    stuck_geocoder: NominatimGeocoder, nominatim: FakeNominatim, clock: FakeClock
) -> None:
    await open_the_breaker(stuck_geocoder)
    clock.advance(seconds=61)
    # Still stuck: the one trial request goes (the others at the same moment do not) and fails.
    trial, *others = await asyncio.gather(
        *(stuck_geocoder.geocode(f"Street {n}") for n in range(10, 15)), return_exceptions=True
    )
    assert isinstance(trial, GeocoderUnavailableError)
    assert all(isinstance(r, GeocoderUnavailableError) for r in others)
    assert len(nominatim.requests) == 4
    with pytest.raises(GeocoderUnavailableError):
        await stuck_geocoder.geocode("Nemanjina 12")
    assert len(nominatim.requests) == 4
    # The server is back: after the next pause the trial succeeds and everything goes again.
    nominatim.hang = False
    clock.advance(seconds=61)
    place = await stuck_geocoder.geocode("Nemanjina 12")
    assert place is not None
    assert place.address == SCHOOL[2]
    assert await stuck_geocoder.reverse(42.9660, 22.1290) == SCHOOL[2]
    assert await stuck_geocoder.geocode("Nowhere 1") is None
    assert len(nominatim.requests) == 7


async def test_a_geocoder_that_drops_every_connection_is_not_asked_for_a_while(
    tmp_path: Path, municipality: Municipality
) -> None:
    connections = 0

    def drop(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    db = await Database.open(tmp_path / "dropped.db")
    dropping = NominatimGeocoder(
        db, municipality, FakeClock(), url=f"http://127.0.0.1:{port}", user_agent="t/1", timeout=2
    )
    await open_the_breaker(dropping)
    tried = connections  # aiohttp tries a dropped request a second time on a new connection
    assert tried >= 3
    results = await asyncio.gather(
        *(dropping.geocode(f"Street {n}") for n in range(40)), return_exceptions=True
    )
    assert all(isinstance(r, GeocoderUnavailableError) for r in results)
    assert connections == tried
    await dropping.close()
    await db.close()
    server.close()
    await server.wait_closed()

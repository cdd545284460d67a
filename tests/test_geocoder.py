"""The real Nominatim geocoder (geopy over aiohttp) against a fake Nominatim on loopback."""

from __future__ import annotations

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

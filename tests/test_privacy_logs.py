"""No secret and nothing a resident wrote reaches the logs, at any level."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.logs import REDACTED, JsonFormatter, RedactingFilter
from tests.bot_process import polling_started
from tests.conftest import ROOT, free_port
from tests.fakes.nominatim import FakeNominatim
from tests.fakes.telegram_api import Call, FakeTelegramApi

MILA = 7002
DESCRIPTION = "Curi voda iz cevi kod kapije broj sedam"
TYPED_ADDRESS = "Zanatlijska 14"
FOUND_ADDRESS = "Занатлијска 14, Власотинце"
LATITUDE, LONGITUDE = "42.96712", "22.13489"
CAMERA_MAKE, CAMERA_MODEL, CAMERA_SOFTWARE = "Fotokamerko", "Snimak-X9000", "FirmwareSedam"


def photo_with_exif() -> bytes:
    """A JPEG whose EXIF names the camera and carries a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = CAMERA_MAKE
    exif[0x0110] = CAMERA_MODEL
    exif[0x0131] = CAMERA_SOFTWARE
    exif[0x8825] = {1: "N", 2: (42.0, 58.0, 1.63), 3: "E", 4: (22.0, 8.0, 5.6)}
    out = io.BytesIO()
    Image.new("RGB", (96, 64), "orange").save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_the_photo_really_carries_its_metadata() -> None:
    exif = Image.open(io.BytesIO(photo_with_exif())).getexif()
    assert exif[0x010F] == CAMERA_MAKE
    assert exif.get_ifd(0x8825)[1] == "N"


async def wait_text(fake: FakeTelegramApi, needle: str) -> None:
    def found(_: list[Call]) -> bool:
        return any(needle in str(m.get("text") or "") for m in fake.sent_messages(MILA))

    found.__qualname__ = f"a message containing {needle!r}"
    await fake.wait_for(found, 20)


async def run_a_whole_report(
    tmp_path: Path, level: str, log_format: str = "text"
) -> tuple[str, FakeTelegramApi]:
    """The real bot process through a whole report; its log output."""
    nominatim = FakeNominatim({"zanatlijska": (float(LATITUDE), float(LONGITUDE), FOUND_ADDRESS)})
    await nominatim.start()
    try:
        async with FakeTelegramApi() as fake:
            env = {
                **os.environ,
                "TELEGRAM_TOKEN": fake.token,
                "TELEGRAM_API_URL": fake.base_url,
                "TELEGRAM_FILE_URL": fake.base_file_url,
                "BOT_DATA_DIR": str(tmp_path / "data"),
                "BOT_CONFIG": str(ROOT / "config" / "vlasotince.toml"),
                "GEOCODER_URL": nominatim.url,
                "HTTP_PORT": str(free_port()),
                "LOG_LEVEL": level,
                "LOG_FORMAT": log_format,
            }
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            try:
                await polling_started(fake, process)
                fake.push_command(MILA, "start", first_name="Mila")
                await wait_text(fake, "Изаберите језик")
                fake.push_callback(MILA, "lang:sr-Latn")
                await wait_text(fake, "Dobro došli")
                fake.push_callback(MILA, "menu:report")
                fake.push_callback(MILA, "cat:water_sewage")
                fake.push_text(MILA, DESCRIPTION)
                fake.push_photo(MILA, photo_with_exif())
                await wait_text(fake, "1 od 3")
                fake.push_callback(MILA, "photos:done")
                fake.push_text(MILA, TYPED_ADDRESS)
                await wait_text(fake, FOUND_ADDRESS)
                fake.push_callback(MILA, "addr:yes")
                await wait_text(fake, "Proverite")
                fake.push_callback(MILA, "sum:confirm")
                await wait_text(fake, "VLA-2026-00001")
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                output, _ = await asyncio.wait_for(process.communicate(), 20)
            assert process.returncode == 0, output.decode()
            return output.decode(), fake
    finally:
        await nominatim.stop()


@pytest.mark.parametrize(
    ("level", "log_format"), [("INFO", "text"), ("DEBUG", "text"), ("DEBUG", "json")]
)
async def test_the_logs_carry_no_secret_and_nothing_a_resident_sent(
    tmp_path: Path, level: str, log_format: str
) -> None:
    output, fake = await run_a_whole_report(tmp_path, level, log_format)
    if log_format == "json":
        lines = [json.loads(line) for line in output.splitlines()]
        assert {"time", "level", "logger", "message"} <= set(lines[0])
        assert all(
            set(line) <= {"time", "level", "logger", "message", "exception", "stack"}
            for line in lines
        )
    assert "bot running" in output  # the process did log, at this level
    assert fake.calls_of("getUpdates"), "the long poll went through the fake"
    token_secret = fake.token.split(":", 1)[1]
    needles = (
        token_secret, DESCRIPTION, "Curi voda", TYPED_ADDRESS, "Zanatlijska", "Занатлијска",
        LATITUDE, LONGITUDE, "42.967", "22.134", CAMERA_MAKE, CAMERA_MODEL, CAMERA_SOFTWARE,
        "GPSInfo", "34853",
    )  # fmt: skip
    assert [n for n in needles if n in output] == [], f"in the {level} log"


def fail_with(message: str) -> None:
    raise RuntimeError(message)


@pytest.mark.parametrize("json_lines", [False, True])
def test_the_filter_redacts_secrets_wherever_they_come_from(
    caplog: pytest.LogCaptureFixture, json_lines: bool
) -> None:
    token = "1234567890:" + "AAEverySecretPartOfTheTokenIsHere_x"
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(RedactingFilter(["viber-auth-token-value", None]))
    if json_lines:
        handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    try:
        logger.warning("POST https://api.telegram.org/bot%s/getUpdates", token)
        logger.warning("url-encoded: bot1234567890%3AAAEverySecretPartOfTheTokenIsHere_x/x")
        logger.warning("header X-Viber-Auth-Token: %s", "viber-auth-token-value")
        try:
            fail_with(f"failed at /bot{token}/sendMessage")
        except RuntimeError:
            logger.exception("request failed")
    finally:
        logger.removeHandler(handler)
    stream = handler.stream
    assert isinstance(stream, io.StringIO)
    written = stream.getvalue()
    assert "EverySecretPart" not in written
    assert "viber-auth-token-value" not in written
    assert written.count(REDACTED) == 4
    assert "request failed" in written
    if json_lines:
        records = [json.loads(line) for line in written.splitlines()]
        assert [r["level"] for r in records] == ["WARNING"] * 3 + ["ERROR"]
        assert "RuntimeError: failed at /bot[redacted]/sendMessage" in records[3]["exception"]

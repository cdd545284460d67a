"""The scorecard as a picture: "How is my municipality doing?" and staff /stats return their
figures as a chart, which the outbox sender draws and delivers as the reply's photo."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from bot.settings import Settings
from storage.sql import fetch_all
from tests.conftest import REF, Office, Press


async def charts_sent_to(office: Office, chat_id: str) -> list[dict[str, Any]]:
    """The charts kept in the outbox rows to a chat, as the handler returned them."""
    rows = await fetch_all(
        office.bot.app.db.conn,
        "SELECT payload FROM outbox WHERE chat_id = ? ORDER BY id",
        (chat_id,),
    )
    return [p["chart"] for p in (json.loads(r[0]) for r in rows) if p.get("chart")]


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        assert image.format == "PNG"
        return image.size


async def test_residents_get_the_scorecard_as_a_picture(office: Office, settings: Settings) -> None:
    await office.report_leak()
    office.bot.clock.advance(hours=2)
    await office.staff("vesna", f"/ack {REF}")
    office.bot.clock.advance(hours=3)
    await office.staff("vesna", f"/resolve {REF}")  # within the water service's 24 hours
    replies = await office.bot.say("ana", Press("menu:scorecard"))
    assert "resolved within the deadline 100 %" in replies[0].text
    (photo,) = replies[0].photos
    assert photo.startswith("photos/charts/")
    assert png_size(settings.data_dir / photo)[0] > 300
    (chart,) = await charts_sent_to(office, "ana")
    assert chart["title"] == "Reports resolved within the deadline (%)"
    assert chart["labels"] == ["JKP Vodovod i kanalizacija"]
    assert chart["values"] == [100.0]
    assert chart["value_labels"] == ["100 %"]
    assert chart["maximum"] == 100


async def test_staff_stats_come_with_a_chart_of_all_and_overdue_reports(
    office: Office, settings: Settings
) -> None:
    await office.report_leak()
    office.bot.clock.advance(hours=30)  # past the water service's 24-hour SLA
    await office.staff("vesna", f"/ack {REF}")
    replies = await office.bot.say("boss", "/stats 7")
    assert "overdue 1" in replies[0].text
    (photo,) = replies[0].photos
    assert png_size(settings.data_dir / photo)[0] > 300
    (chart,) = await charts_sent_to(office, "boss")
    assert chart["title"] == "Reports of the last 7 days by service"
    assert chart["labels"] == ["JKP Vodovod i kanalizacija"]
    assert (chart["values"], chart["reference"]) == ([1.0], [1.0])
    assert chart["legend"] == ["overdue", "all reports"]
    assert chart["value_labels"] == ["1 / 1"]


async def test_with_no_reports_there_is_no_empty_picture(office: Office) -> None:
    replies = await office.bot.say("mila", Press("menu:scorecard"))
    assert "No reports yet." in replies[0].text
    assert replies[0].photos == ()
    assert await charts_sent_to(office, "mila") == []

"""The published data sets follow an erasure and `/private` within a minute, not at the daily
run: the job `open-data-changes` rebuilds them once the reports' change counter has moved."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import web as public_web
from bot.settings import Settings
from bot.web import datasets
from tests.conftest import REF, Office, Press
from tests.test_export import SECOND, rows_of

DESCRIPTION = "Water is gushing from a pipe on the corner"


def published(folder: Path) -> dict[str, dict[str, str]]:
    """The reports of reports.csv by reference; the GeoJSON and the ZIP must say the same."""
    rows = {r["reference"]: r for r in rows_of((folder / "reports.csv").read_bytes())}
    points = json.loads((folder / "reports.geojson").read_bytes())
    assert {f["properties"]["reference"] for f in points["features"]} == set(rows)
    with zipfile.ZipFile(io.BytesIO((folder / datasets.ZIP_NAME).read_bytes())) as archive:
        assert archive.read("reports.csv") == (folder / "reports.csv").read_bytes()
    return rows


def jobs(settings: Settings, office: Office) -> tuple[Job, Job]:
    scheduler = AsyncIOScheduler()
    public_web.schedule(scheduler, settings, office.bot.app)
    daily, changes = scheduler.get_job("open-data"), scheduler.get_job("open-data-changes")
    assert daily is not None
    assert changes is not None, "no job refreshes the data sets between the daily runs"
    return daily, changes


async def test_private_and_erased_reports_leave_the_data_sets_within_a_minute(
    office: Office, settings: Settings
) -> None:
    await office.report_leak()
    await office.report_leak("mila", again=True)
    daily, changes = jobs(settings, office)
    assert str(changes.trigger) == "interval[0:01:00]"
    folder = public_web.data_folder(settings)
    await daily.func()
    rows = published(folder)
    assert sorted(rows) == [REF, SECOND]
    assert rows[REF]["description"] == DESCRIPTION

    untouched = (folder / "reports.csv").stat().st_ino
    await changes.func()  # nothing changed: nothing is written
    assert (folder / "reports.csv").stat().st_ino == untouched

    said = await office.staff("vesna", f"/private {SECOND}")
    assert "data set" in said[0]
    await changes.func()
    assert sorted(published(folder)) == [REF]

    await office.bot.say("ana", "/deleteme")
    told = await office.bot.say("ana", Press("erase:yes"))
    assert "Your personal data is erased." in told[0].text
    await changes.func()
    erased = published(folder)[REF]
    assert erased["description"] == ""
    assert DESCRIPTION.encode() not in (folder / "reports.geojson").read_bytes()
    assert DESCRIPTION.encode() not in (folder / datasets.ZIP_NAME).read_bytes()
    assert erased["category"] == "water_sewage"  # the statistics stay

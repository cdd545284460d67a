"""The open data sets: CSV with a BOM, GeoJSON, data.json, the ZIP; written by
``moja-opstina export DIR`` and by the daily job, served under /data/."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import cli, runtime
from bot import web as public_web
from bot.app import build_app
from bot.settings import Settings
from bot.web import datasets
from handlers.municipality import load_municipality
from handlers.opendata import holder
from storage import budget, library_suggestions, opendata, plan, users
from storage.budget import Line
from tests.conftest import REF, VLASOTINCE, Bot, Office, Press, free_port, leak_report
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

SECOND = "VLA-2026-00002"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "BOT_CONFIG": str(VLASOTINCE),
            "HTTP_PORT": str(free_port()),
            "PUBLIC_URL": "https://opstina.example.org/",
        }
    )


async def worked_reports(office: Office) -> None:
    """Three reports: one rejected (closed), one open, one taken out of the open data."""
    await office.report_leak()
    await office.staff("vesna", f"/ack {REF}")
    await office.staff("vesna", f"/reject {REF} Not ours: the pipe is private.")
    await office.report_leak("mila")
    await office.report_leak("boss")
    await office.staff("vesna", "/private VLA-2026-00003")


def rows_of(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheets then read UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_the_reports_as_csv_geojson_catalogue_and_zip(office: Office) -> None:
    await worked_reports(office)
    app = office.bot.app
    published = await datasets.build(
        app.db.reader, app.deps.municipality, office.bot.clock.now(), "https://o.example"
    )
    files = published.files
    assert sorted(files) == [
        "data.json", "open-data.zip", "plan.csv", "reports.csv", "reports.geojson",
    ]  # fmt: skip
    rows = rows_of(files["reports.csv"])
    assert [r["reference"] for r in rows] == [REF, SECOND]
    first = rows[0]
    assert first["category"] == "water_sewage"
    assert first["category_name"] == "Водовод и канализација"
    assert first["service_name"] == "ЈКП Водовод и канализација"
    assert first["status"] == "rejected"
    assert first["created"] == "2026-05-17T11:00:00+02:00"
    assert first["acknowledged"] == "2026-05-17T11:00:00+02:00"
    assert first["closed"] == "2026-05-17T11:00:00+02:00"
    assert first["resolved"] == ""
    assert rows[1]["closed"] == ""
    assert first["latitude"] == "42.9661"
    assert first["description"] == "Water is gushing from a pipe on the corner"
    text = files["reports.csv"].decode()
    for personal in ("Ana", "Mila", "vesna", "private"):
        assert personal not in text.replace("pipe is private", ""), personal
    points = json.loads(files["reports.geojson"])
    assert points["type"] == "FeatureCollection"
    assert points["features"][0]["geometry"] == {
        "type": "Point",
        "coordinates": [22.129, 42.9661],
    }
    assert points["features"][1]["properties"]["reference"] == SECOND
    catalogue = json.loads(files["data.json"])
    sets = {d["distribution"][0]["downloadURL"]: d for d in catalogue["dataset"]}
    reports_set = sets["https://o.example/data/reports.csv"]
    assert reports_set["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert reports_set["publisher"]["name"] == "Власотинце"
    assert reports_set["modified"] == "2026-05-17T11:00:00+02:00"
    # Rewritten within a minute of any change, not daily: the reports change at any moment, the
    # plan when staff change it.
    assert reports_set["accrualPeriodicity"] == "R/PT1S"
    assert sets["https://o.example/data/plan.csv"]["accrualPeriodicity"] == "irregular"
    assert reports_set["title"] == "Пријављени комунални проблеми"
    assert [f["name"] for f in reports_set["fields"]][:3] == [
        "reference", "category", "category_name",
    ]  # fmt: skip
    assert all(f["description"] for f in reports_set["fields"])
    with zipfile.ZipFile(io.BytesIO(files["open-data.zip"])) as archive:
        assert sorted(archive.namelist()) == [
            "data.json", "plan.csv", "reports.csv", "reports.geojson",
        ]  # fmt: skip
        assert archive.read("reports.csv") == files["reports.csv"]


async def test_the_budget_plan_and_library_sets_follow_their_data_within_the_minute(
    office: Office, settings: Settings
) -> None:
    """The minute's job rewrites the files when the budget, the plan or the library's
    suggestions change (not only at the daily run), and not when nothing changed."""
    app, now = office.bot.app, office.bot.clock.now()
    writer = public_web.DataSetWriter(settings, app)
    folder = public_web.data_folder(settings)
    await writer.refresh()
    assert not (folder / "budget.csv").exists()
    line = Line(1, "spending", "0701", "0701-0002", "Одржавање путева", "451", "425", "01", 100, 0)
    async with app.db.transaction() as conn:
        await budget.add_version(
            conn, 2026, "execution", date(2026, 6, 30), "b.csv", [line], imported_by=None, now=now
        )
    await writer.refresh_if_changed()
    lines = rows_of((folder / "budget.csv").read_bytes())
    assert [r["name"] for r in lines] == ["Одржавање путева"]
    await suggested_titles(office)
    await writer.refresh_if_changed()
    suggested = rows_of((folder / "library-suggestions.csv").read_bytes())
    assert [(r["title"], r["supporters"]) for r in suggested] == [
        ("На Дрини ћуприја", "3"), ("Сеобе", "1"),
    ]  # fmt: skip
    async with app.db.transaction() as conn:
        (measure,) = await plan.by_key(conn, "1.1", "ogp")
        assert await plan.change(conn, measure, status="done", progress=100, now=now)
    await writer.refresh_if_changed()
    measures = {
        (r["plan"], r["key"]): r["status"] for r in rows_of((folder / "plan.csv").read_bytes())
    }
    assert measures["ogp", "1.1"] == "done"
    (folder / "plan.csv").unlink()
    await writer.refresh_if_changed()  # nothing changed since: nothing is written
    assert not (folder / "plan.csv").exists()


async def test_the_budget_lines_are_published_once_there_is_a_budget(office: Office) -> None:
    app = office.bot.app
    lines = [
        Line(1, "spending", "0701", "0701-0002", "Одржавање путева", "451", "425", "01",
             123456789, 50000),
        Line(2, "revenue", None, None, "Порез на имовину", None, "713", None, 99900000, 0),
    ]  # fmt: skip
    async with app.db.transaction() as conn:
        await budget.add_version(
            conn, 2026, "execution", date(2026, 6, 30), "b.csv", lines, imported_by=None,
            now=office.bot.clock.now(),
        )  # fmt: skip
    published = await datasets.build(app.db.reader, app.deps.municipality, app.deps.clock.now(), "")
    rows = rows_of(published.files["budget.csv"])
    assert rows[0] == {
        "year": "2026", "document": "execution", "as_of": "2026-06-30", "line": "1",
        "side": "spending", "program": "0701", "activity": "0701-0002",
        "name": "Одржавање путева", "function": "451", "account": "425", "source": "01",
        "planned": "1234567.89", "executed": "500.00",
    }  # fmt: skip
    assert rows[1]["program"] == ""
    titles = [d["title"] for d in json.loads(published.files["data.json"])["dataset"]]
    assert "Ставке буџета" in titles


async def suggested_titles(office: Office) -> None:
    """Two suggestions: one asked for by three residents (with their reasons), one by one."""
    app, now = office.bot.app, office.bot.clock.now()
    async with app.db.transaction() as conn:
        ids = {}
        for name in ("boss", "vesna", "petar", "mila"):
            found = await users.load_conversation(conn, "test", name)
            assert found is not None
            ids[name] = found.user.id
        wanted = await library_suggestions.create(
            conn, "На Дрини ћуприја", "Иво Андрић", None, "na drini cuprija", "Mila's reason",
            ids["mila"], now,
        )  # fmt: skip
        for name in ("boss", "petar"):
            await library_suggestions.support(conn, wanted, ids[name], "Secret reason", now)
        other = await library_suggestions.create(
            conn, "Сеобе", "Милош Црњански", None, "seobe", None, ids["vesna"], now
        )
        await library_suggestions.answer(conn, other, "ordered", None, ids["boss"], now)


async def test_the_plan_and_the_library_suggestions_are_published(office: Office) -> None:
    await suggested_titles(office)
    app = office.bot.app
    published = await datasets.build(app.db.reader, app.deps.municipality, app.deps.clock.now(), "")
    files = published.files
    rows = rows_of(files["plan.csv"])
    assert [r["plan"] for r in rows] == ["ogp"] * 13 + ["mladi"] * 4  # the file's order
    assert rows[-1]["plan_title"] == "Локални акциони план за младе општине Власотинце 2026–2028"
    measures = {r["key"]: r for r in rows if r["plan"] == "ogp"}
    assert measures["1.1"]["parent"] == "1"
    assert measures["1.1"]["status"] == "done"
    assert (measures["1.1"]["progress"], measures["1.2"]["progress"]) == ("100", "60")
    assert measures["1.3"]["progress"] == "25"
    assert measures["1"]["progress"] == "71"  # (100·2 + 60·1 + 25·1) / 4, computed
    assert measures["1"]["parent"] == ""
    assert measures["1"]["ends_on"] == "2026-12-31"
    assert measures["1"]["responsible"] == "Одељење за комуналне послове и инспекцију"
    assert rows_of(files["library-suggestions.csv"]) == [
        {"title": "На Дрини ћуприја", "author": "Иво Андрић", "supporters": "3",
         "status": "open"},
        {"title": "Сеобе", "author": "Милош Црњански", "supporters": "1", "status": "ordered"},
    ]  # fmt: skip
    text = files["library-suggestions.csv"].decode()
    for personal in ("reason", "Mila", "mila", "Шеф", "Весна"):
        assert personal not in text, personal
    catalogue = {d["identifier"]: d for d in json.loads(files["data.json"])["dataset"]}
    plan_set = catalogue["/data/plan.csv"]
    assert plan_set["title"] == "Мере акционог плана"
    assert plan_set["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert [f["name"] for f in plan_set["fields"]][-2:] == ["status", "progress"]
    wanted_set = catalogue["/data/library-suggestions.csv"]
    assert [f["name"] for f in wanted_set["fields"]] == ["title", "author", "supporters", "status"]
    assert all(f["description"] for f in wanted_set["fields"])
    with zipfile.ZipFile(io.BytesIO(files["open-data.zip"])) as archive:
        assert archive.read("plan.csv") == files["plan.csv"]
        assert archive.read("library-suggestions.csv") == files["library-suggestions.csv"]


@pytest.fixture
async def served(office: Office, settings: Settings) -> AsyncIterator[str]:
    routes = runtime.web_app()
    public_web.add_routes(routes, settings, office.bot.app)
    runner = await runtime.serve(routes, settings)
    try:
        yield f"http://127.0.0.1:{settings.http_port}"
    finally:
        await runner.cleanup()


async def test_the_daily_job_writes_what_data_serves(
    office: Office, settings: Settings, served: str
) -> None:
    await worked_reports(office)
    scheduler = AsyncIOScheduler()
    public_web.schedule(scheduler, settings, office.bot.app)
    job = scheduler.get_job("open-data")
    assert job is not None
    assert str(job.trigger) == "cron[hour='3', minute='30']"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{served}/data/reports.csv") as before:
            assert before.status == 404  # nothing written yet
        await job.func()
        async with session.get(f"{served}/data/reports.csv") as answer:
            assert answer.status == 200
            assert answer.content_type == "text/csv"
            assert [r["reference"] for r in rows_of(await answer.read())] == [REF, SECOND]
        async with session.get(f"{served}/data/") as index:
            assert index.status == 200
            page = await index.text()
            assert 'href="/data/reports.csv"' in page
            assert 'href="/data/data.json"' in page
        async with session.get(f"{served}/data/data.json") as catalogue:
            listed = json.loads(await catalogue.read())
        assert listed["dataset"][0]["identifier"] == "https://opstina.example.org/data/reports.csv"
        for missing in ("/data/.reports.csv.partial", "/data/bot.db", "/data/..%2Fbot.db"):
            async with session.get(served + missing) as refused:
                assert refused.status == 404, missing


def test_moja_opstina_export_writes_the_folder(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    async def file_a_report() -> None:
        m = load_municipality(settings.config)
        channel = CollectingChannel()
        async with build_app(
            settings, m, {"test": channel}, clock=FakeClock(), geocoder=FakeGeocoder()
        ) as app:
            bot = Bot(app, channel, FakeClock())
            for item in leak_report():
                await bot.say("ana", item)

    asyncio.run(file_a_report())
    monkeypatch.setenv("BOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BOT_CONFIG", str(VLASOTINCE))
    folder = tmp_path / "export"
    assert cli.main(["export", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "data.json", "open-data.zip", "plan.csv", "reports.csv", "reports.geojson",
    ]  # fmt: skip
    assert [r["reference"] for r in rows_of((folder / "reports.csv").read_bytes())] == [REF]
    printed = capsys.readouterr().out
    assert "reports.csv (" in printed


async def test_the_scorecard_of_a_service(office: Office) -> None:
    clock = office.bot.clock
    await office.report_leak()
    clock.advance(hours=12)
    await office.staff("vesna", f"/ack {REF}")
    clock.advance(hours=12)
    await office.staff("vesna", f"/resolve {REF}")  # at its 24-hour deadline: in time
    await office.report_leak("mila")
    clock.advance(days=1)
    await office.staff("vesna", f"/ack {SECOND}")
    clock.advance(days=2)
    await office.staff("vesna", f"/resolve {SECOND}")  # after three days: late
    await office.report_leak("boss")
    m = office.bot.app.deps.municipality
    (card,) = await opendata.scorecards(office.bot.app.db.reader, clock.now(), holder(m))
    assert card.service == "water"
    assert card.open_now == 1
    assert card.median_ack_days == pytest.approx(0.75)
    assert card.median_resolve_days == pytest.approx(2.0)
    assert card.resolved_in_time == pytest.approx(0.5)
    assert card.per_month[-1] == ("2026-05", 3)
    assert [m for m, _ in card.per_month][:2] == ["2025-06", "2025-07"]


async def test_a_handed_off_report_counts_where_it_is_now(office: Office) -> None:
    """The scorecards count a report handed over to an outside body under that body, as
    reports.csv (and Open311's agency_responsible, from the same rule) name it, not under the
    municipal service it came from."""
    await office.report_leak()
    await office.report_leak("mila", again=True)
    await office.staff("vesna", f"/handoff {SECOND} eds")
    app, now = office.bot.app, office.bot.clock.now()
    m = app.deps.municipality
    published = await datasets.build(app.db.reader, m, now, "")
    rows = rows_of(published.files["reports.csv"])
    assert {r["reference"]: r["service"] for r in rows} == {REF: "water", SECOND: "eds"}
    cards = await opendata.scorecards(app.db.reader, now, holder(m))
    assert [(c.service, c.open_now, c.per_month[-1]) for c in cards] == [
        ("eds", 0, ("2026-05", 1)), ("water", 1, ("2026-05", 1)),
    ]  # fmt: skip
    said = await office.bot.say("ana", Press("menu:scorecard"))
    assert "Elektrodistribucija" in said[0].text.split("\n\n")[1], said[0].text


async def test_a_reopened_report_is_not_closed_in_the_data_sets(office: Office) -> None:
    """reports.csv's ``closed`` is the report's last closure while it is ended, none once it is
    reopened (it kept the earlier one)."""
    app, clock = office.bot.app, office.bot.clock
    await office.report_leak()
    await office.staff("vesna", f"/reject {REF} Not ours.")
    clock.advance(hours=1)
    await office.staff("vesna", f"/reopen {REF}")

    async def closed() -> tuple[str, str]:
        files = (await datasets.build(app.db.reader, app.deps.municipality, clock.now(), "")).files
        (row,) = rows_of(files["reports.csv"])
        return row["status"], row["closed"]

    assert await closed() == ("reopened", "")
    clock.advance(hours=1)
    await office.staff("vesna", f"/reject {REF} Not ours after all.")
    assert await closed() == ("rejected", "2026-05-17T13:00:00+02:00")


async def test_residents_ask_how_the_municipality_is_doing(office: Office) -> None:
    clock = office.bot.clock
    await office.report_leak()
    clock.advance(hours=12)
    await office.staff("vesna", f"/ack {REF}")
    menu = await office.bot.say("ana", Press("menu:main"))
    labels = [b.label for row in menu[-1].buttons for b in row]
    assert "📊 How is my municipality doing?" in labels
    await office.bot.play(
        "ana",
        [
            (
                Press("menu:scorecard"),
                [
                    "How the municipal services handle the reports",
                    "JKP Vodovod i kanalizacija: open now 1; median days to acknowledge 0.5,"
                    " to resolve -; resolved within the deadline -",
                    "[📝 Report a problem]",
                ],
            )
        ],
    )

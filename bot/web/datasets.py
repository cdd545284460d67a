"""The published data sets: the reports as CSV and GeoJSON, the budget's lines, the action plan's
measures and the library's suggestion counts as CSV (each once that feature has data), a data.json
catalogue with each set's metadata, and one ZIP of all; written to a folder, served under /data/.

The CSV files start with a byte order mark, so that spreadsheet programs read them as UTF-8 and
show the Cyrillic. Times are ISO 8601 in the municipality's zone.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import zipfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from handlers.i18n import Translator, translator
from handlers.municipality import Municipality
from handlers.opendata import responsible
from handlers.plan.config import PlanSection
from handlers.plan.progress import Plan, percent
from handlers.texts import N_, category_name, status_name
from storage import budget, library_suggestions, opendata, plan
from storage.opendata import PublicReport

log = logging.getLogger(__name__)
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
CATALOGUE = "data.json"
ZIP_NAME = "open-data.zip"
FOLDER = "opendata"  # under the data folder
BOM = "\ufeff"
REFRESH_AT = (3, 30)  # the daily job, the municipality's time
CHECK_EVERY = 60  # seconds: how soon a change reaches the files (bot/web DataSetWriter)
# data.json's accrualPeriodicity (Project Open Data 1.1's codes). Every file is rewritten within
# CHECK_EVERY of a change to its data (and at the daily run, which changes nothing by itself), so
# each says how often its data changes: the reports' at any moment, as residents and staff work
# ("continuously updated"); the budget's, the plan's and the suggestions' when someone imports,
# publishes, updates or supports them, on no schedule ("irregular").
CONTINUOUSLY = "R/PT1S"
IRREGULAR = "irregular"
MAX_SUGGESTIONS = 100_000


@dataclass(frozen=True, slots=True)
class Field:
    """A column of a data set and what it holds (a msgid)."""

    name: str
    description: str


REPORT_FIELDS = (
    Field("reference", N_("The report's public reference")),
    Field("category", N_("The kind of problem (the Open311 service code)")),
    Field("category_name", N_("The kind of problem, by name")),
    Field(
        "service",
        N_("Who is responsible: the municipal service's code, or the outside body's it was handed"
           " over to"),
    ),
    Field(
        "service_name",
        N_("Who is responsible: the municipal service, or the outside body it was handed over to"),
    ),
    Field(
        "status",
        N_("The status (new, acknowledged, in_progress, resolved, closed, reopened, rejected)"),
    ),
    Field("status_name", N_("The status, by name")),
    Field("created", N_("When the report was received")),
    Field("acknowledged", N_("When the service acknowledged it")),
    Field("resolved", N_("When it was resolved")),
    Field("closed", N_("When it was closed or rejected")),
    Field(
        "updated",
        N_("Its last public change (Open311's updated_datetime): while it is open, a status change"
           " or a public answer; once it is resolved or closed, the moment it was"),
    ),
    Field("latitude", N_("Latitude (WGS84)")),
    Field("longitude", N_("Longitude (WGS84)")),
    Field("address", N_("The address, as given or found")),
    Field("description", N_("The resident's description of the problem")),
)  # fmt: skip
BUDGET_FIELDS = (
    Field("year", N_("The budget year")),
    Field("document", N_("The document: adopted, rebalance or execution")),
    Field("as_of", N_("The date of the document")),
    Field("line", N_("The line's number in the document")),
    Field("side", N_("spending or revenue")),
    Field("program", N_("The program of the uniform program structure")),
    Field("activity", N_("The program activity or project")),
    Field("name", N_("The activity's or the revenue's name")),
    Field("function", N_("The functional classification")),
    Field("account", N_("The economic classification (account)")),
    Field("source", N_("The source of funding")),
    Field("planned", N_("Planned, in dinars")),
    Field("executed", N_("Executed so far, in dinars")),
)  # fmt: skip
PLAN_FIELDS = (
    Field("plan", N_("The plan's id in the municipality file")),
    Field("plan_title", N_("The plan's title")),
    Field("key", N_("The measure's number in the plan (1, 1.2, ...)")),
    Field("parent", N_("The number of the commitment the activity belongs to")),
    Field("title", N_("The measure")),
    Field("description", N_("What the measure is about")),
    Field("responsible", N_("Who is responsible for it")),
    Field("service", N_("The responsible service's code")),
    Field("starts_on", N_("When it starts")),
    Field("ends_on", N_("When it is due")),
    Field("status", N_("The status (not_started, in_progress, done, late, dropped)")),
    Field("progress", N_("Progress in per cent (a commitment's is computed from its activities)")),
)  # fmt: skip
# Counts only: who suggested or supported a title, and why, stays with the library.
SUGGESTION_FIELDS = (
    Field("title", N_("The suggested title")),
    Field("author", N_("Its author")),
    Field("supporters", N_("How many residents asked for it")),
    Field("status", N_("The status (open, ordered, available, not_planned, arrived)")),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DataSet:
    """One published file with its metadata."""

    file: str
    media_type: str
    title: str  # msgids
    description: str
    fields: tuple[Field, ...]
    content: bytes
    periodicity: str  # data.json's accrualPeriodicity


# Each data set's title and description (msgids), and how often its data changes, by file.
ABOUT: dict[str, tuple[str, str, str]] = {
    "reports.csv": (
        N_("Reported communal problems"),
        N_("Every public report of a communal problem, with its status and times."),
        CONTINUOUSLY,
    ),
    "reports.geojson": (
        N_("Reported communal problems (map)"),
        N_("The same reports as GeoJSON points, for maps."),
        CONTINUOUSLY,
    ),
    "budget.csv": (
        N_("Budget lines"),
        N_("Every line of the newest budget document: planned and executed."),
        IRREGULAR,
    ),
    "plan.csv": (
        N_("Action plan measures"),
        N_("Every measure of the action plan with its responsible, dates, status and progress."),
        IRREGULAR,
    ),
    "library-suggestions.csv": (
        N_("Titles suggested to the library"),
        N_("The titles residents suggested, how many asked for each and what became of them."),
        IRREGULAR,
    ),
}


def _data_set(file: str, media_type: str, fields: tuple[Field, ...], content: bytes) -> DataSet:
    title, description, periodicity = ABOUT[file]
    return DataSet(file, media_type, title, description, fields, content, periodicity)


@dataclass(frozen=True, slots=True)
class Published:
    """Every file of one export, by name."""

    files: dict[str, bytes]


def _csv(fields: Sequence[Field], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f.name for f in fields])
    for row in rows:  # row by row: writerows holds the GIL for all of them
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8")


class _Times:
    def __init__(self, m: Municipality) -> None:
        self.zone = ZoneInfo(m.timezone)

    def __call__(self, moment: datetime | None) -> str | None:
        return moment.astimezone(self.zone).isoformat(timespec="seconds") if moment else None


def report_rows(
    m: Municipality, t: Translator, found: list[PublicReport], ended: dict[int, datetime]
) -> list[list[Any]]:
    """The reports' public facts, one row each, in the order of ``REPORT_FIELDS``."""
    at = _Times(m)
    return [
        [
            r.ref, r.category, category_name(t, r.category), *responsible(m, t, r),
            r.status, status_name(t, r.status),
            at(r.created_at), at(r.acknowledged_at), at(r.resolved_at), at(ended.get(r.id)),
            at(r.last_change), r.latitude, r.longitude, r.address, r.description,
        ]
        for r in found
    ]  # fmt: skip


def geojson(rows: list[list[Any]]) -> bytes:
    """The reports as a GeoJSON FeatureCollection (a report without a point has no geometry)."""
    names = [f.name for f in REPORT_FIELDS]
    features = []
    for row in rows:
        properties = dict(zip(names, row, strict=True))
        lat, lon = properties["latitude"], properties["longitude"]
        point = {"type": "Point", "coordinates": [lon, lat]} if lat is not None else None
        features.append({"type": "Feature", "geometry": point, "properties": properties})
    # One feature at a time: a single dumps of them all holds the GIL (and the bot's event loop
    # with it) for the whole encoding.
    encoded = ", ".join(json.dumps(f, ensure_ascii=False) for f in features)
    return f'{{"type": "FeatureCollection", "features": [{encoded}]}}'.encode()


def _dinars(para: int) -> str:
    return f"{para // 100}.{para % 100:02d}"


async def budget_rows(conn: aiosqlite.Connection) -> list[list[Any]] | None:
    """The newest budget document's lines, or None when no budget was imported."""
    version = await budget.latest(conn)
    if version is None:
        return None
    return [
        [
            version.year, version.kind, version.as_of.isoformat(), x.number, x.side, x.program,
            x.activity, x.name, x.function, x.account, x.source, _dinars(x.planned),
            _dinars(x.executed),
        ]
        for x in await budget.lines_of(conn, version.id)
    ]  # fmt: skip


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


async def plan_rows(
    conn: aiosqlite.Connection, plans: PlanSection, t: Translator
) -> list[list[Any]] | None:
    """The measures of the published plans, or None when they have none."""
    order = [p.id for p in plans.plans]  # the file's order of plans, each plan's own order
    found = [m for m in await plan.all_measures(conn) if m.plan in order]
    measures = sorted(found, key=lambda m: order.index(m.plan))
    if not measures:
        return None
    tree = Plan(measures)
    keys = {m.id: m.key for m in measures}
    return [
        [
            m.plan, plans.title_of(t, m.plan), m.key,
            keys.get(m.parent_id) if m.parent_id else None, m.title, m.description, m.responsible,
            m.service, _day(m.starts_on), _day(m.ends_on), m.status,
            percent(tree.progress(m.id)),
        ]
        for m in measures
    ]  # fmt: skip


async def suggestion_rows(conn: aiosqlite.Connection) -> list[list[Any]] | None:
    """The library's suggestions, the most wanted first, or None when there are none."""
    found = await library_suggestions.ranked(conn, library_suggestions.STATUSES, MAX_SUGGESTIONS)
    if not found:
        return None
    return [[s.title, s.author, s.supporters, s.status] for s in found]


@dataclass(frozen=True, slots=True)
class Sources:
    """What the data sets are made of, as read from the database."""

    reports: list[PublicReport]
    ended: dict[int, datetime]
    budget: list[list[Any]] | None
    plan: list[list[Any]] | None
    suggestions: list[list[Any]] | None


async def build(
    conn: aiosqlite.Connection, m: Municipality, now: datetime, base_url: str
) -> Published:
    """Every data set as it is now, the catalogue and the ZIP of all."""
    t = translator(m.staff_language)
    found = Sources(
        await opendata.all_public(conn), await opendata.ended_times(conn),
        await budget_rows(conn), await plan_rows(conn, m.plan, t), await suggestion_rows(conn),
    )  # fmt: skip
    # Encoding many reports takes seconds of CPU (the rows, CSV, GeoJSON, the ZIP): in a thread,
    # so that the bot's events and messages go on meanwhile (the job runs whenever reports change).
    return await asyncio.to_thread(assemble, m, t, found, now, base_url)


def assemble(
    m: Municipality, t: Translator, found: Sources, now: datetime, base_url: str
) -> Published:
    """The files of the data sets, the catalogue and the ZIP of all."""
    rows = report_rows(m, t, found.reports, found.ended)
    sets = [
        _data_set("reports.csv", "text/csv", REPORT_FIELDS, _csv(REPORT_FIELDS, rows)),
        _data_set("reports.geojson", "application/geo+json", REPORT_FIELDS, geojson(rows)),
    ]
    if found.budget is not None:
        content = _csv(BUDGET_FIELDS, found.budget)
        sets.append(_data_set("budget.csv", "text/csv", BUDGET_FIELDS, content))
    if found.plan is not None:
        sets.append(_data_set("plan.csv", "text/csv", PLAN_FIELDS, _csv(PLAN_FIELDS, found.plan)))
    if found.suggestions is not None:
        content = _csv(SUGGESTION_FIELDS, found.suggestions)
        sets.append(_data_set("library-suggestions.csv", "text/csv", SUGGESTION_FIELDS, content))
    files = {s.file: s.content for s in sets}
    files[CATALOGUE] = catalogue(m, t, sets, now, base_url)
    files[ZIP_NAME] = _zip(files)
    return Published(files)


def catalogue(
    m: Municipality, t: Translator, sets: list[DataSet], now: datetime, base_url: str
) -> bytes:
    """The data.json catalogue (Project Open Data 1.1): title, publisher, licence, fields, ..."""
    publisher = {"@type": "org:Organization", "name": t.name(m.name_in(t.language))}
    modified = _Times(m)(now)
    document = {
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@type": "dcat:Catalog",
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "dataset": [
            {
                "@type": "dcat:Dataset",
                "identifier": f"{base_url}/data/{s.file}",
                "title": t.gettext(s.title),
                "description": t.gettext(s.description),
                "publisher": publisher,
                "license": LICENCE,
                "modified": modified,
                "accrualPeriodicity": s.periodicity,
                "accessLevel": "public",
                "keyword": [m.code.lower(), "open311"],
                "distribution": [
                    {"@type": "dcat:Distribution", "downloadURL": f"{base_url}/data/{s.file}",
                     "mediaType": s.media_type},
                    {"@type": "dcat:Distribution", "downloadURL": f"{base_url}/data/{ZIP_NAME}",
                     "mediaType": "application/zip"},
                ],
                "fields": [
                    {"name": f.name, "description": t.gettext(f.description)} for f in s.fields
                ],
            }
            for s in sets
        ],
    }  # fmt: skip
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def write(folder: Path, published: Published) -> list[Path]:
    """Write every file into ``folder``, each replaced whole (a reader never sees half a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in published.files.items():
        target = folder / name
        partial = folder / f".{name}.partial"
        partial.write_bytes(content)
        os.replace(partial, target)
        written.append(target)
    return written


async def refresh(
    conn: aiosqlite.Connection, m: Municipality, now: datetime, base_url: str, folder: Path
) -> list[Path]:
    """Build and write the data sets (the files written in a thread, as they were built)."""
    return await asyncio.to_thread(write, folder, await build(conn, m, now, base_url))


Refresh = Callable[[], Awaitable[None]]


def schedule(
    scheduler: AsyncIOScheduler, refresh_now: Refresh, refresh_if_changed: Refresh, zone: str
) -> None:
    """Refresh the data sets every day (and once at the start), as the other jobs run, and each
    minute when a report changed (an erased or `/private` report leaves them at once)."""
    hour, minute = REFRESH_AT
    scheduler.add_job(
        refresh_now, CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(zone)),
        id="open-data", next_run_time=datetime.now(ZoneInfo(zone)), coalesce=True,
        max_instances=1, misfire_grace_time=None,
    )  # fmt: skip
    scheduler.add_job(
        refresh_if_changed, "interval", seconds=CHECK_EVERY, id="open-data-changes",
        coalesce=True, max_instances=1, misfire_grace_time=None,
    )  # fmt: skip


def add_routes(routes: web.Application, folder: Path) -> None:
    """Serve the written files under /data/ (the site's page at /data/ lists them)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = folder / name
        if name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound
        response = web.FileResponse(path)
        if name.endswith(".csv"):
            response.content_type = "text/csv"
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    routes.router.add_get(r"/data/{name:[a-z0-9-]+\.(?:csv|geojson|json|zip)}", serve)

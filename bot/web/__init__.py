"""The public web: the site, the Open311 GeoReport v2 API and the open data sets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.settings import Settings
from bot.web import calendar, datasets, library_feed, open311, site
from storage import opendata

log = logging.getLogger(__name__)


def data_folder(settings: Settings) -> Path:
    """Where the data sets are written (and served from)."""
    return settings.data_dir / datasets.FOLDER


def add_routes(routes: web.Application, settings: Settings, app: App) -> open311.OpenData:
    """Serve the API and the data sets on the bot's web server; return what they read with."""
    data = open311.add_routes(routes, settings, app)
    datasets.add_routes(routes, data_folder(settings))
    site.add_routes(routes, data, settings.tile_url, data_folder(settings))
    calendar.add_routes(routes, data)
    library_feed.add_routes(routes, data)
    return data


async def refresh_data(settings: Settings, app: App) -> None:
    """Write the data sets as they are now (read through the reader: committed data only)."""
    await DataSetWriter(settings, app).refresh()


class DataSetWriter:
    """Writes the data sets, one build at a time, and again whenever the reports changed.

    An erased, retired or `/private` report must leave the published files soon (``/private``
    says that no data set shows it), not at the daily run, and a published budget, a measure's
    new status or a supported title should show within the minute too: the database counts every
    change to a report (report_changes.n, migration 0025) and to the budget, the plan and the
    library's suggestions (data_set_changes.n, migration 0033), and a check every minute
    rebuilds the files once either counter has moved since the last write.
    """

    def __init__(self, settings: Settings, app: App) -> None:
        self.settings = settings
        self.app = app
        self.written: tuple[int, int] | None = None  # the counters the files were built at
        # One build at a time: an older build finishing last would put back what was removed.
        self.lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Build and write every data set now."""
        async with self.lock:
            await self._write()

    async def refresh_if_changed(self) -> None:
        """Build and write them if their data changed since they were last written."""
        async with self.lock:
            if (await self._changes()) != self.written:
                await self._write()

    async def _changes(self) -> tuple[int, int]:
        return await opendata.data_set_changes(self.app.db.reader)

    async def _write(self) -> None:
        try:
            # Read before building: a change during the build moves it again, and the next
            # check rebuilds.
            counter = await self._changes()
            written = await datasets.refresh(
                self.app.db.reader, self.app.deps.municipality, self.app.deps.clock.now(),
                self.settings.base_url, data_folder(self.settings),
            )  # fmt: skip
        except Exception:
            log.exception("the open data sets could not be written; the job tries again")
            return
        self.written = counter
        log.info("open data sets written: %d files", len(written))


@contextlib.asynccontextmanager
async def serving(settings: Settings, app: App, *, on: bool = True) -> AsyncIterator[None]:
    """The site, the API and the data sets on HTTP_HOST:HTTP_PORT while the console runs
    (``make run``), so that a newcomer can open http://127.0.0.1:8080/. A busy port is said, and
    the console goes on without them."""
    if not on:
        yield
        return
    from bot import runtime  # here: the runtime itself imports this package

    routes = runtime.web_app()
    add_routes(routes, settings, app)
    try:
        runner = await runtime.serve(routes, settings)
    except OSError as e:
        log.warning("the public site is not served: %s", e.strerror)
        yield
        return
    await refresh_data(settings, app)
    try:
        yield
    finally:
        await runner.cleanup()


def schedule(scheduler: AsyncIOScheduler, settings: Settings, app: App) -> None:
    """The daily refresh of the data sets and the check each minute for changed reports."""
    writer = DataSetWriter(settings, app)
    datasets.schedule(
        scheduler, writer.refresh, writer.refresh_if_changed, app.deps.municipality.timezone
    )

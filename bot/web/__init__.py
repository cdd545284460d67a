"""The public web: the site, the Open311 GeoReport v2 API and the open data sets."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.settings import Settings
from bot.web import calendar, datasets, library_feed, open311, site

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
    try:
        written = await datasets.refresh(
            app.db.reader, app.deps.municipality, app.deps.clock.now(), settings.base_url,
            data_folder(settings),
        )  # fmt: skip
    except Exception:
        log.exception("the open data sets could not be written; the job runs again tomorrow")
        return
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
    """The daily refresh of the data sets."""
    # A partial, not a lambda: APScheduler awaits a coroutine function (and sees through partials).
    refresh = functools.partial(refresh_data, settings, app)
    datasets.schedule(scheduler, refresh, app.deps.municipality.timezone)

"""The consultations' calendar files (iCalendar, RFC 5545), served at /consultations/ID.ics.

The UID is stable (the consultation's id and the site's host), so a calendar program that opens
the file again replaces the event it holds; SEQUENCE is the consultation's revision, raised when
the consultation changes (its minutes). Times are in Europe/Belgrade with the zone's definition.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web.open311 import OpenData
from handlers.budget import period
from handlers.i18n import LANGUAGES, translator
from storage import consultations, opendata
from storage.consultations import Consultation

PRODID = "-//Moja opstina//consultations//SR"


def event_uid(consultation_id: int, base_url: str) -> str:
    """The event's UID, the same for every version of the consultation."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"consultation-{consultation_id}@{host}"


def calendar_file(c: Consultation, revision: int, zone: str, base_url: str, now: datetime) -> bytes:
    """One consultation as an iCalendar file."""
    import icalendar  # here: a tenth of a second at the bot's start, for a file rarely asked for

    tz = ZoneInfo(zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", event_uid(c.id, base_url))
    event.add("sequence", revision)
    event.add("dtstamp", now)
    event.add("dtstart", c.starts_at.astimezone(tz))
    event.add("dtend", c.ends_at.astimezone(tz))
    event.add("summary", c.title)
    description = c.description + (f"\n\n{c.minutes}" if c.minutes else "")
    event.add("description", description)
    event.add("location", c.place)
    if c.link:
        event.add("url", c.link)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def add_routes(routes: web.Application, data: OpenData) -> None:
    """Serve /consultations/ID.ics."""
    routes.router.add_get(r"/consultations/{id:[0-9]{1,18}}.ics", _serve(data))


def _serve(data: OpenData) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        consultation_id = int(request.match_info["id"])
        found = await consultations.get(data.conn, consultation_id)
        if found is None:
            raise web.HTTPNotFound
        # ?lang=: the bot's own texts (a budget consultation's) in the reader's language.
        asked = request.query.get("lang", "")
        language = asked if asked in LANGUAGES else data.m.staff_language
        found = period.in_language(translator(language), found, data.m)
        revision = await opendata.revision_of(data.conn, consultation_id)
        body = calendar_file(
            found, revision, data.m.timezone, data.settings.base_url, data.app.deps.clock.now()
        )
        response = web.Response(body=body, content_type="text/calendar", charset="utf-8")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="consultation-{consultation_id}.ics"'
        )
        return response

    return serve

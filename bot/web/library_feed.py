"""The library's public feed of new titles (Atom, RFC 4287), served at /library/new.atom.

It holds what the library published and nothing personal: each title with its authors,
publisher, year and the catalogue's page; never who follows, suggested or supported anything.
The entry ids are stable (the title's id and the site's host), so a feed reader shows each once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from aiohttp import web

from bot.web.open311 import OpenData
from handlers.i18n import Translator
from handlers.library.info import LibraryInfo
from handlers.library.titles import SUBJECTS
from storage import library
from storage.library import Title

PATH = "/library/new.atom"
ATOM = "http://www.w3.org/2005/Atom"
DAYS = 90  # what a feed reader that looks in now and then should still find
MAX_ENTRIES = 100


def add_routes(routes: web.Application, data: OpenData) -> None:
    """Serve the feed of new titles."""
    routes.router.add_get(PATH, _serve(data))


def _serve(data: OpenData) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        del request
        info = data.m.library
        if info is None:
            raise web.HTTPNotFound
        now = data.app.deps.clock.now()
        titles = await library.added_since(data.conn, now - timedelta(days=DAYS))
        body = atom_feed(data.t, info, titles[:MAX_ENTRIES], data.settings.base_url, now)
        return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")

    return serve


def atom_feed(
    t: Translator, info: LibraryInfo, titles: list[Title], base_url: str, now: datetime
) -> bytes:
    """The Atom document of the titles, newest first."""
    host = urlsplit(base_url).hostname or "localhost"
    feed = ET.Element("feed", xmlns=ATOM)
    ET.SubElement(feed, "id").text = f"tag:{host},2026:library:new"
    ET.SubElement(feed, "title").text = t.gettext(
        "New titles: {library}", library=t.name(info.name)
    )
    updated = max((x.added_at for x in titles), default=now)
    ET.SubElement(feed, "updated").text = updated.isoformat()
    ET.SubElement(feed, "link", rel="self", href=base_url.rstrip("/") + PATH)
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = t.name(info.name)
    for title in titles:
        feed.append(_entry(t, info, title, host))
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def _entry(t: Translator, info: LibraryInfo, title: Title, host: str) -> ET.Element:
    entry = ET.Element("entry")
    ET.SubElement(entry, "id").text = f"tag:{host},2026:library:title:{title.id}"
    ET.SubElement(entry, "title").text = title.title
    ET.SubElement(entry, "updated").text = title.added_at.isoformat()
    for name in title.authors:
        ET.SubElement(ET.SubElement(entry, "author"), "name").text = name
    link = title.link or info.link(title.isbn, title.title, ", ".join(title.authors))
    if link:
        ET.SubElement(entry, "link", rel="alternate", href=link)
    facts = [", ".join(title.authors), title.publisher or "", title.year or ""]
    summary = " · ".join(f for f in facts if f)
    if title.isbn:
        summary += f" · ISBN {title.isbn}"
    if summary:
        ET.SubElement(entry, "summary").text = summary
    label = t.gettext(SUBJECTS.get(title.subject, title.subject))
    ET.SubElement(entry, "category", term=title.subject, label=label)
    return entry

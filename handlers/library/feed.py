"""The library's feed of new titles (RSS or Atom, read with feedparser), polled by a job.

The download happens before the transaction (the job's ``prepare``); the entries become titles
and are stored like an import's, so an entry seen again is not added, nor announced, twice.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

import aiohttp
import aiosqlite

from handlers.events import Outgoing
from handlers.flow import JobFn
from handlers.library import importing
from handlers.library.titles import InvalidIsbnError, NewTitle, isbn13
from handlers.municipality import Municipality

log = logging.getLogger(__name__)

FETCH_SECONDS = 20
MAX_FEED_BYTES = 2 * 1024 * 1024
# Feeds name their language as ISO 639-1 (sr, sr-Latn); titles keep UNIMARC's ISO 639-2.
LANGUAGES = {"sr": "srp", "hu": "hun", "en": "eng", "de": "ger", "fr": "fre", "ru": "rus"}
_ISBN = re.compile(r"ISBN(?:-1[03])?:?\s*([\dX][\d\s-]{8,16}[\dX])", re.IGNORECASE)


async def fetch(url: str) -> bytes | None:
    """The feed's bytes, or None when it cannot be had now (the next poll tries again)."""
    timeout = aiohttp.ClientTimeout(total=FETCH_SECONDS)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as answer:
            if answer.status != 200:
                log.warning("library feed answered %s", answer.status)
                return None
            body = await answer.content.read(MAX_FEED_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError) as e:
        log.warning("library feed unreachable: %s", type(e).__name__)
        return None
    if len(body) > MAX_FEED_BYTES:
        log.warning("library feed over %s bytes; skipped", MAX_FEED_BYTES)
        return None
    return body


def titles_of(content: bytes) -> list[NewTitle]:
    """The titles a feed lists (entries without a title are skipped)."""
    import feedparser  # here: a tenth of a second at the bot's start, for a job that may not run

    parsed: Any = feedparser.parse(content)
    language = _language(str(parsed.feed.get("language", "")))
    titles = []
    for entry in parsed.entries:
        title = " ".join(str(entry.get("title", "")).split())
        if not title:
            continue
        author = " ".join(str(entry.get("author", "")).split())
        terms = [str(t.get("term", "")) for t in entry.get("tags", [])]
        titles.append(
            NewTitle(
                title=title,
                authors=(author,) if author else (),
                isbn=_isbn(" ".join([str(entry.get("id", "")), str(entry.get("summary", ""))])),
                udc=next((t for t in terms if t[:1].isdigit()), None),
                language=language,
                link=_web_link(str(entry.get("link", ""))),
            )
        )
    return titles


def _web_link(link: str) -> str | None:
    # feedparser takes an RSS guid for the link when there is none, even "b2".
    return link if link.startswith(("https://", "http://")) else None


def _language(code: str) -> str | None:
    return LANGUAGES.get(code.split("-")[0].lower()) if code else None


def _isbn(text: str) -> str | None:
    for found in _ISBN.finditer(text):
        try:
            return isbn13(found.group(1))
        except InvalidIsbnError:
            continue
    return None


async def prepare_poll(m: Municipality, now: datetime) -> JobFn:
    """Download the feed (before the transaction); what to store comes back as the job to run."""
    del now
    url = m.library.feed_url if m.library else ""
    content = await fetch(url) if url else None
    titles = titles_of(content) if content else []

    async def store(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
        del m
        if titles:
            found = await importing.preview_titles(conn, "feed", titles)
            await importing.store(conn, found, now)
        return []  # followers are told by the digest job

    return store


async def no_poll(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
    """The job without its download (``prepare_poll`` gives the real work)."""
    del conn, m, now
    return []

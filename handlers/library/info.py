"""The library's part of the municipality file: contacts, hours, the catalogue's links, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

_KEYS = {
    "name", "address", "hours", "phone", "email", "website", "catalogue_url", "search_url",
    "feed_url", "events",
}  # fmt: skip
_EVENT_KEYS = {"title", "starts_at", "place", "description"}


class LibrarySectionError(ValueError):
    """The ``[library]`` table is wrong; the message names the key."""


@dataclass(frozen=True, slots=True)
class LibraryEvent:
    """A reading, a children's workshop, a book launch."""

    title: str
    starts_at: datetime
    place: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class LibraryInfo:
    """The town library: who it is, when it is open, and where its catalogue shows a title."""

    name: str
    hours: str
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    # COBISS+ and most OPACs link a record by its ISBN; {isbn} is the ISBN-13's digits.
    catalogue_url: str = ""
    # For a title without an ISBN: the catalogue's search, {query} being the title and author.
    search_url: str = ""
    feed_url: str = ""
    events: tuple[LibraryEvent, ...] = ()

    def link(self, isbn: str | None, title: str, author: str) -> str | None:
        """The catalogue's page of a title, or None when the file gives no pattern for it."""
        if isbn and self.catalogue_url:
            return self.catalogue_url.format(isbn=isbn)
        if self.search_url:
            return self.search_url.format(query=quote(f"{title} {author}".strip()))
        return None


def parse_library(table: Any) -> LibraryInfo | None:
    """The ``[library]`` table of a municipality file (None when there is none).

    Raises:
        LibrarySectionError: naming the key that is missing, unknown or wrong.
    """
    if table is None:
        return None
    if not isinstance(table, dict):
        raise LibrarySectionError("must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise LibrarySectionError(f"unknown key '{unknown[0]}'")
    texts = {k: table[k] for k in _KEYS - {"events"} if k in table}
    wrong = sorted(k for k, v in texts.items() if not isinstance(v, str))
    if wrong or not texts.get("name") or not texts.get("hours"):
        raise LibrarySectionError(f"'{wrong[0] if wrong else 'name'}' and 'hours' must be texts")
    if texts.get("catalogue_url") and "{isbn}" not in texts["catalogue_url"]:
        raise LibrarySectionError("'catalogue_url' needs {isbn}")
    if texts.get("search_url") and "{query}" not in texts["search_url"]:
        raise LibrarySectionError("'search_url' needs {query}")
    return LibraryInfo(**texts, events=tuple(_event(i, e) for i, e in enumerate(
        table.get("events", []), 1)))  # fmt: skip


def _event(number: int, item: Any) -> LibraryEvent:
    where = f"event #{number}"
    if not isinstance(item, dict) or set(item) - _EVENT_KEYS:
        raise LibrarySectionError(f"{where}: unknown key")
    starts = item.get("starts_at")
    if not isinstance(starts, datetime) or starts.tzinfo is None:
        raise LibrarySectionError(f"{where}: 'starts_at' needs a time with an offset (+01:00)")
    title, place = item.get("title"), item.get("place")
    if not isinstance(title, str) or not isinstance(place, str):
        raise LibrarySectionError(f"{where}: 'title' and 'place' must be texts")
    return LibraryEvent(title, starts, place, str(item.get("description", "")))

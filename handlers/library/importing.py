"""Importing new acquisitions: read the file, count what is new, store it (the CLI and the chat)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from handlers.library.reading import file_format, read_titles
from handlers.library.titles import NewTitle, normalise
from storage import library
from storage.library import TitleRow

SOURCES = {"xlsx": "xlsx", "marcxml": "marc", "iso2709": "marc", "csv": "csv"}


@dataclass(frozen=True, slots=True)
class Preview:
    """What an import would do: the titles read, and which of them the library does not have."""

    source: str
    read: int
    new: tuple[NewTitle, ...]

    @property
    def duplicates(self) -> int:
        """Titles already known (same ISBN, or same normalised title and author) or repeated."""
        return self.read - len(self.new)


def row_of(title: NewTitle) -> TitleRow:
    """The stored form of a title, with its keys."""
    return TitleRow(
        title=title.title,
        authors=title.authors,
        responsibility=title.responsibility,
        isbn=title.isbn,
        match_key=title.match_key,
        search_text=normalise(" ".join([title.title, *title.authors])),
        publisher=title.publisher,
        year=title.year,
        udc=title.udc,
        subject=title.subject,
        language=title.language,
        link=title.link,
    )


async def preview(conn: aiosqlite.Connection, name: str, content: bytes) -> Preview:
    """Read a file and say what it would add (raises ImportRefusedError for a bad file)."""
    titles = read_titles(name, content)
    return await preview_titles(conn, SOURCES[file_format(content)], titles)


async def preview_titles(
    conn: aiosqlite.Connection, source: str, titles: Sequence[NewTitle]
) -> Preview:
    """What storing ``titles`` would add."""
    rows = [row_of(t) for t in titles]
    isbns, keys = await library.known_keys(conn, rows)
    fresh = {id(r) for r in library.new_ones(rows, isbns, keys)}
    new = tuple(t for t, r in zip(titles, rows, strict=True) if id(r) in fresh)
    return Preview(source, len(titles), new)


async def store(conn: aiosqlite.Connection, found: Preview, now: datetime) -> list[int]:
    """Store a preview's new titles (those known meanwhile are skipped); return their ids."""
    return await library.add_titles(conn, [row_of(t) for t in found.new], found.source, now)

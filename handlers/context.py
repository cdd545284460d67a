"""What a handler gets (the context) and what it gives back (the step)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from handlers.events import Button, Choices, Outgoing, Reply
from handlers.i18n import Translator, translator
from handlers.municipality import Municipality
from handlers.ports import Clock, Geocoder, PhotoSaver, VoiceSaver
from storage.users import User

if TYPE_CHECKING:
    from handlers.flow import Registry


@dataclass(frozen=True, slots=True)
class Deps:
    """The long-lived parts every handler may use."""

    municipality: Municipality
    clock: Clock
    geocoder: Geocoder
    photos: PhotoSaver
    registry: Registry
    voices: VoiceSaver
    public_url: str = ""  # where the public reaches the bot's web server (calendar files)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What was fetched before the transaction (network and disk work never holds a write lock).

    ``outcome`` names the result, such as ``saved``, ``too_large``, ``invalid``, ``found``,
    ``not_found`` or ``unavailable``; ``data`` carries the values.
    """

    outcome: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Context:
    """One event's view of the world, inside the dispatcher's transaction."""

    deps: Deps
    conn: aiosqlite.Connection
    user: User
    state: str
    draft: dict[str, Any]
    now: datetime
    lookup: Lookup | None = None
    chat_id: str = ""  # the chat the event came from (a staff group, or the private chat)
    moved: list[tuple[str, str]] = field(default_factory=list)  # others whose state was set
    # The flows' values read with the batch's first hop (``ReadAhead``), by name.
    ahead: dict[str, Any] = field(default_factory=dict)
    # Personal data was erased by this step: once it is committed, the process forgets what it
    # keeps in memory of replies (handlers/memories.py) and of this user.
    erased: bool = False

    @property
    def in_private(self) -> bool:
        """Whether the event came from the user's own chat (not a staff chat)."""
        return self.chat_id in ("", self.user.chat_id)

    @property
    def t(self) -> Translator:
        """The translator of the chat the replies go to, on the municipality's clock: the user's
        language and script in their own chat, the staff's in a staff chat (everyone there
        reads it, whoever acted)."""
        m = self.deps.municipality
        return translator(self.user.language if self.in_private else m.staff_language, m.timezone)

    @property
    def own_t(self) -> Translator:
        """The translator of the user's own language and script, for what they alone read (a
        refusal on the button they pressed in a staff chat)."""
        return translator(self.user.language, self.deps.municipality.timezone)

    def translator_for(self, language: str | None) -> Translator:
        """The translator for someone else this step writes to, on the municipality's clock."""
        return translator(language, self.deps.municipality.timezone)

    @property
    def municipality(self) -> Municipality:
        """The municipality this bot serves."""
        return self.deps.municipality

    @property
    def registry(self) -> Registry:
        """Every feature's flow."""
        return self.deps.registry


@dataclass(slots=True)
class Step:
    """A handler's answer: the next state and draft, replies to the user, messages to others."""

    state: str
    draft: dict[str, Any]
    replies: list[Reply]
    outgoing: list[Outgoing] = field(default_factory=list)
    language: str | None = None
    # A short text for the one who pressed a button only (a refusal), not for the whole chat.
    alert: str | None = None


MAX_ID_DIGITS = 18  # SQLite's integers end at 19 digits


def parse_id(raw: str) -> int | None:
    """A database id from untrusted text (button data, a command argument), or None."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS:
        return int(raw)
    return None


def buttons(*rows: list[Button]) -> Choices:
    """Buttons in rows."""
    return Choices(tuple(tuple(row) for row in rows))


def column(items: list[Button]) -> Choices:
    """One button per row: the layout that reads best on a phone."""
    return Choices(tuple((b,) for b in items))

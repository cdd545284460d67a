"""The ports handlers depend on: small Protocols, passed in, never globals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from handlers.events import CommandMenu, Markup, Reply


class Clock(Protocol):
    """Tells the time (a fake clock in tests)."""

    def now(self) -> datetime:
        """Return the current moment, timezone-aware."""
        ...


@dataclass(frozen=True, slots=True)
class Place:
    """A point with the address the geocoder gives for it."""

    latitude: float
    longitude: float
    address: str


class GeocoderUnavailableError(Exception):
    """The geocoder could not be reached or answered with an error."""


class Geocoder(Protocol):
    """Turns addresses into coordinates and back."""

    async def geocode(self, query: str) -> Place | None:
        """Find an address; None when there is no such place.

        Raises:
            GeocoderUnavailableError: the service cannot be reached.
        """
        ...

    async def reverse(self, latitude: float, longitude: float) -> str | None:
        """Name the address at a point; None when unknown or unreachable."""
        ...


class PhotoSaver(Protocol):
    """Stores a photo's content and says where (see ``storage.photos.PhotoStore``)."""

    def save(self, content: bytes) -> StoredPhotoLike:
        """Store a photo; raises on a file that is too large or not an image."""
        ...


class StoredPhotoLike(Protocol):
    """A stored photo's path and hash."""

    @property
    def path(self) -> str:
        """Path relative to the data folder."""
        ...

    @property
    def sha256(self) -> str:
        """Hash of the stored content."""
        ...


class VoiceSaver(Protocol):
    """Stores a voice note's content and says where (see ``storage.voices.VoiceStore``)."""

    def save(self, content: bytes) -> StoredVoiceLike:
        """Store a voice note; raises ``storage.voices.VoiceError`` when it is refused."""
        ...


class StoredVoiceLike(Protocol):
    """A stored voice note's path and length."""

    @property
    def path(self) -> str:
        """Path relative to the data folder."""
        ...

    @property
    def seconds(self) -> int:
        """Its length, read from the file."""
        ...


class Channel(Protocol):
    """A messenger as the outbox sender sees it."""

    name: str

    async def send(self, chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        """Deliver one rendered message; return the messenger's id of it, when it has one.

        ``edit`` is the id of an earlier message of the bot in that chat to replace.

        Raises:
            RetryAfterError: the messenger asks to wait.
            UnreachableError: the user blocked the bot or no longer exists.
            TemporaryError: a network error or a server error; try again later.
            PermanentError: the messenger refuses this message for good.
        """
        ...


@runtime_checkable
class CommandMenus(Protocol):
    """A channel whose messenger keeps a command menu per chat (Telegram): the outbox sender
    gives it the replies that set one; elsewhere those replies are nothing to send."""

    async def set_menu(self, chat_id: str, menu: CommandMenu) -> None:
        """Set a private chat's own command menu, or take it away when ``menu`` lists none.

        Raises:
            RetryAfterError, TemporaryError, PermanentError: as ``Channel.send``.
        """
        ...


class Screens(Protocol):
    """The buttons a user sees now: what a message without its own goes with (on Viber)."""

    async def markup(self, channel: str, chat_id: str) -> Markup:
        """The markup of the current state of the user whose private chat this is."""
        ...


@runtime_checkable
class KeyboardPerMessage(Protocol):
    """A channel whose keyboard belongs to the last message sent (Viber): the wiring gives it
    the screens, so that a message without buttons of its own keeps the user's."""

    screens: Screens | None


class DeliveryError(Exception):
    """A message could not be delivered now.

    ``done`` counts the parts of the message (its photos, then each part of a long text) that
    did go out before the failure, so a retry does not send them twice.
    """

    done: int = 0


class RetryAfterError(DeliveryError):
    """The messenger asks to wait ``seconds`` before sending again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class UnreachableError(DeliveryError):
    """The user blocked the bot or deleted their account."""


class TemporaryError(DeliveryError):
    """A network or server error that may pass."""


class PermanentError(DeliveryError):
    """The messenger will never accept this message."""

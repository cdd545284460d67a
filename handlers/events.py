"""The words both sides speak: inbound events from residents and the replies to them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, assert_never


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent an event: the messenger, the user's id there and the chat to answer in."""

    channel: str
    user_id: str
    chat_id: str
    first_name: str = ""
    group: bool = False


@dataclass(frozen=True, slots=True)
class Text:
    """Typed text that is not a command."""

    sender: Sender
    text: str
    update_id: str | None = None
    reply_to: str | None = None  # the id of the message it answers (a staff chat's reply)


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command such as ``/start`` with whatever follows it."""

    sender: Sender
    name: str
    args: str = ""
    update_id: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonChoice:
    """A pressed button; ``data`` is untrusted input like any typed text."""

    sender: Sender
    data: str
    update_id: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """A shared location pin or venue."""

    sender: Sender
    latitude: float
    longitude: float
    title: str = ""
    update_id: str | None = None


@dataclass(frozen=True, slots=True)
class Photo:
    """An image (a photo or an image file); ``content`` is None when it was not downloaded."""

    sender: Sender
    file_id: str
    content: bytes | None
    size: int
    update_id: str | None = None
    reply_to: str | None = None  # the id of the message it answers (a staff chat's reply)
    caption: str = ""  # the text sent with it


MAX_FILE_BYTES = 5 * 1024 * 1024  # a document larger than this is not downloaded


@dataclass(frozen=True, slots=True)
class File:
    """A file that is not an image (a PDF, a spreadsheet, ...).

    ``content`` is the document's bytes when the channel downloaded it (at most MAX_FILE_BYTES),
    else None; ``name`` is the file name the sender gave it.
    """

    sender: Sender
    kind: str
    update_id: str | None = None
    name: str = ""
    content: bytes | None = None
    size: int = 0


@dataclass(frozen=True, slots=True)
class Contact:
    """A shared phone contact."""

    sender: Sender
    phone: str
    update_id: str | None = None


@dataclass(frozen=True, slots=True)
class Blocked:
    """The user blocked the bot or unsubscribed: stop sending, keep the data."""

    sender: Sender
    update_id: str | None = None


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Anything else: a sticker, a voice message, a poll..."""

    sender: Sender
    kind: str
    update_id: str | None = None


Inbound = Text | Command | ButtonChoice | Location | Photo | File | Contact | Blocked | Unsupported


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the user: the label shown and the data sent back."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Choices:
    """Buttons under the message, in rows."""

    rows: tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class AskLocation:
    """A keyboard with one button that shares the user's location."""

    label: str


@dataclass(frozen=True, slots=True)
class RemoveKeyboard:
    """Take away a keyboard shown before (the location request)."""


@dataclass(frozen=True, slots=True)
class ForceReply:
    """Ask the client to answer this very message (in a group: a reply to it)."""


# What a message carries besides its text; channels render each kind (and assert_never the rest).
Markup = Choices | AskLocation | RemoveKeyboard | ForceReply | None
_KEYBOARDS = {"location": AskLocation, "remove": RemoveKeyboard, "force_reply": ForceReply}


@dataclass(frozen=True, slots=True)
class Reply:
    """One rendered message to one chat.

    ``markup`` is its buttons or keyboard change (one of them: a message cannot carry both).
    ``photos`` are stored photo paths sent before the text (attachments in an e-mail, whose
    ``subject`` is used). A message with a ``key`` is remembered once sent; with ``edit`` it
    replaces the message sent under the same key in the same chat (a report's card), or is sent
    anew when there is none.
    """

    text: str
    markup: Markup = None
    photos: tuple[str, ...] = ()
    subject: str = ""
    key: str = ""
    edit: bool = False
    done_parts: int = 0  # parts already delivered by an earlier attempt

    @property
    def buttons(self) -> tuple[tuple[Button, ...], ...]:
        """The rows of buttons, if the markup is choices."""
        return self.markup.rows if isinstance(self.markup, Choices) else ()

    def to_payload(self) -> dict[str, Any]:
        """The JSON an outbox row keeps of this reply."""
        payload: dict[str, Any] = {"text": self.text}
        match self.markup:
            case Choices(rows):
                payload["buttons"] = [[[b.label, b.data] for b in row] for row in rows]
            case AskLocation(label):
                payload.update(keyboard="location", keyboard_label=label)
            case RemoveKeyboard():
                payload["keyboard"] = "remove"
            case ForceReply():
                payload["keyboard"] = "force_reply"
            case None:
                pass
            case _:
                assert_never(self.markup)
        payload.update(
            photos=list(self.photos), subject=self.subject, key=self.key, edit=self.edit,
            done_parts=self.done_parts,
        )  # fmt: skip
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Reply:
        """The reply an outbox row keeps (rows written before this version read the same)."""
        rows = payload.get("buttons") or []
        markup: Markup = None
        if rows:
            markup = Choices(
                tuple(tuple(Button(label, data) for label, data in row) for row in rows)
            )
        else:
            kind = _KEYBOARDS.get(str(payload.get("keyboard", "none")))
            if kind is AskLocation:
                markup = AskLocation(str(payload.get("keyboard_label", "")))
            elif kind is not None:
                markup = kind()
        return cls(
            text=str(payload.get("text", "")),
            markup=markup,
            photos=tuple(payload.get("photos", ())),
            subject=str(payload.get("subject", "")),
            key=str(payload.get("key", "")),
            edit=bool(payload.get("edit", False)),
            done_parts=int(payload.get("done_parts", 0)),
        )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A reply addressed to a chat other than the one the event came from."""

    channel: str
    chat_id: str
    reply: Reply

"""The words both sides speak: inbound events from residents and the replies to them."""

from __future__ import annotations

import math
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
    # The album it came in (Telegram's media group): an album's photos arrive one by one.
    album: str = ""


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
class Voice:
    """A voice note (on Viber, which has none, an audio file); ``content`` is None when it was
    not downloaded (too large, or the download failed). ``seconds`` is what the messenger says."""

    sender: Sender
    file_id: str
    content: bytes | None
    size: int
    seconds: int = 0
    update_id: str | None = None
    reply_to: str | None = None  # the id of the message it answers (a staff chat's reply)


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
    """Anything else: a sticker, a video, a poll..."""

    sender: Sender
    kind: str
    update_id: str | None = None


Inbound = (
    Text
    | Command
    | ButtonChoice
    | Location
    | Photo
    | File
    | Voice
    | Contact
    | Blocked
    | Unsupported
)


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
MAX_CHART_BARS = 24  # more bars than this do not read on a phone


@dataclass(frozen=True, slots=True)
class Chart:
    """The data of a horizontal bar chart; the outbox sender draws it, never a handler.

    ``values`` are the bars; ``reference`` (when given) a lighter bar behind each, such as the
    planned amount behind the executed one, named with ``values`` in ``legend``. ``value_labels``
    are written at the bars' ends (formatted by the handler, in the reader's language);
    ``maximum`` fixes the end of the axis (100 for per cent). The reply's text still carries
    the figures: the picture is an addition, not the only way to read them. A chart holds
    public figures only: its picture is kept in a cache and served by URL to the messengers.
    """

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    reference: tuple[float, ...] = ()
    legend: tuple[str, ...] = ()
    value_labels: tuple[str, ...] = ()
    unit: str = ""
    maximum: float | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.labels) <= MAX_CHART_BARS or len(self.values) != len(self.labels):
            raise ValueError("a chart has 1 to 24 bars, one value per label")
        for extra in (self.reference, self.value_labels):
            if extra and len(extra) != len(self.labels):
                raise ValueError("a chart's reference and value labels have one per label")
        if any(not math.isfinite(v) or v < 0 for v in (*self.values, *self.reference)):
            raise ValueError("a chart's values are finite and not negative")

    def to_payload(self) -> dict[str, Any]:
        """The JSON an outbox row keeps of this chart."""
        return {
            "title": self.title, "labels": list(self.labels), "values": list(self.values),
            "reference": list(self.reference), "legend": list(self.legend),
            "value_labels": list(self.value_labels), "unit": self.unit, "maximum": self.maximum,
        }  # fmt: skip

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Chart:
        """The chart an outbox row keeps."""
        maximum = payload.get("maximum")
        return cls(
            title=str(payload.get("title", "")),
            labels=tuple(str(label) for label in payload.get("labels", ())),
            values=tuple(float(v) for v in payload.get("values", ())),
            reference=tuple(float(v) for v in payload.get("reference", ())),
            legend=tuple(str(name) for name in payload.get("legend", ())),
            value_labels=tuple(str(label) for label in payload.get("value_labels", ())),
            unit=str(payload.get("unit", "")),
            maximum=float(maximum) if maximum is not None else None,
        )


_KEYBOARDS = {"location": AskLocation, "remove": RemoveKeyboard, "force_reply": ForceReply}


@dataclass(frozen=True, slots=True)
class MenuCommand:
    """One line of a command menu: the command's name and its description, rendered."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class CommandMenu:
    """The command menu of one private chat (a staff member's), rendered in its reader's
    language and script. No commands: the chat's own menu is taken away, and the menu that all
    residents' chats have shows again."""

    commands: tuple[MenuCommand, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent with a message (the resident's data export): the name shown and where it is
    stored in the data folder (storage/exports.py). The outbox row keeps these, never the
    content, and the file is deleted soon after it is sent."""

    name: str
    path: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One rendered message to one chat.

    ``markup`` is its buttons or keyboard change (one of them: a message cannot carry both).
    ``photos`` are stored photo paths sent before the text (attachments in an e-mail, whose
    ``subject`` is used); a ``chart`` is drawn by the sender and goes first among them;
    ``voice`` a stored voice note and ``document`` a file, sent after the photos (attachments
    too). A message with a ``key`` is remembered once sent; with ``edit`` it replaces the message
    sent under the same key in the same chat (a report's card), or is sent anew when there is none.
    A reply with a ``menu`` is no message: it sets its chat's command menu where the messenger has
    one, and is nothing elsewhere.
    """

    text: str
    markup: Markup = None
    photos: tuple[str, ...] = ()
    subject: str = ""
    key: str = ""
    edit: bool = False
    done_parts: int = 0  # parts already delivered by an earlier attempt
    chart: Chart | None = None
    voice: str = ""
    document: Document | None = None
    menu: CommandMenu | None = None

    @property
    def buttons(self) -> tuple[tuple[Button, ...], ...]:
        """The rows of buttons, if the markup is choices."""
        return self.markup.rows if isinstance(self.markup, Choices) else ()

    def to_payload(self) -> dict[str, Any]:
        """The JSON an outbox row keeps of this reply: what differs from the defaults only
        (the sender reads it back for every message it sends)."""
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
        if self.photos:
            payload["photos"] = list(self.photos)
        if self.subject:
            payload["subject"] = self.subject
        if self.key:
            payload["key"] = self.key
        if self.edit:
            payload["edit"] = True
        if self.done_parts:
            payload["done_parts"] = self.done_parts
        if self.chart is not None:
            payload["chart"] = self.chart.to_payload()
        if self.voice:
            payload["voice"] = self.voice
        if self.document is not None:
            payload["document"] = {"name": self.document.name, "path": self.document.path}
        if self.menu is not None:
            payload["menu"] = [[c.name, c.description] for c in self.menu.commands]
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Reply:
        """The reply an outbox row keeps (rows written before this version read the same)."""
        rows = payload.get("buttons") or []
        chart = payload.get("chart")
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
            chart=Chart.from_payload(chart) if isinstance(chart, Mapping) else None,
            voice=str(payload.get("voice", "")),
            document=_document(payload.get("document")),
            menu=_menu(payload.get("menu")),
        )


def _menu(raw: object) -> CommandMenu | None:
    if not isinstance(raw, list):
        return None
    return CommandMenu(tuple(MenuCommand(str(name), str(text)) for name, text in raw))


def _document(raw: object) -> Document | None:
    if not isinstance(raw, Mapping):
        return None
    return Document(str(raw.get("name", "")), str(raw.get("path", "")))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A reply addressed to a chat other than the one the event came from.

    ``about``: the user whose words or data it carries to staff (a resident's question, request
    or comment): their erasure deletes the message with their other messages.
    """

    channel: str
    chat_id: str
    reply: Reply
    about: int | None = None

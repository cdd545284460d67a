"""The console channel: a resident (or staff member) chats with the bot on stdin and stdout."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from handlers.events import (
    AskLocation,
    Button,
    ButtonChoice,
    Command,
    Contact,
    Inbound,
    Location,
    Photo,
    Reply,
    Sender,
    Text,
    Unsupported,
)
from storage.photos import MAX_PHOTO_BYTES

CHANNEL = "console"


class ConsoleChannel:
    """Prints replies; buttons become numbered lines, chosen later by number or by label."""

    name = CHANNEL

    def __init__(self, out: TextIO | None = None, data_dir: Path | None = None) -> None:
        self._out = out or sys.stdout
        self._data_dir = data_dir
        self._buttons: dict[str, list[Button]] = {}
        self._printed = 0
        # Every console chat prints here; messages to someone else's chat are marked as such.
        self.own_chat = ""

    async def send(self, chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        """Print one reply (an edit is printed again, marked as such)."""
        self._printed += 1
        lines = [f"[→ {chat_id}]"] if self.own_chat and chat_id != self.own_chat else []
        lines += ["(✎)"] if edit else []
        lines += [f"[📷 {path}]" for path in reply.photos]
        lines += [f"[🎤 {reply.voice}]"] if reply.voice else []
        lines += [f"[📄 {reply.document.name}]"] if reply.document else []
        lines.append(reply.text)
        choices = [b for row in reply.buttons for b in row]
        if choices:
            self._buttons[chat_id] = choices
            lines += [f"  {i}. {b.label}" for i, b in enumerate(choices, 1)]
        if isinstance(reply.markup, AskLocation):
            lines.append(f"  [{reply.markup.label}: /location LAT LON]")
        print("\n".join(lines), end="\n\n", file=self._out, flush=True)
        return str(self._printed)

    def parse(self, sender: Sender, line: str) -> Inbound | None:
        """Turn a typed line into an event; None for an empty line."""
        text = line.strip()
        if not text:
            return None
        if text.startswith("/"):
            return self._parse_command(sender, text)
        return self._choice(sender, text) or Text(sender, text)

    def _choice(self, sender: Sender, text: str) -> ButtonChoice | None:
        choices = self._buttons.get(sender.chat_id, [])
        if text.isdigit() and 1 <= int(text) <= len(choices):
            return ButtonChoice(sender, choices[int(text) - 1].data)
        for b in choices:
            if b.label.casefold() == text.casefold():
                return ButtonChoice(sender, b.data)
        return None

    def _parse_command(self, sender: Sender, text: str) -> Inbound:
        name, _, args = text[1:].partition(" ")
        args = args.strip()
        match name.lower():
            case "location":
                return _location(sender, args)
            case "photo":
                return _photo(sender, args)
            case "contact":
                return Contact(sender, args)
            case "sticker" | "voice" | "video":
                return Unsupported(sender, name.lower())
        return Command(sender, name.lower(), args)


def _location(sender: Sender, args: str) -> Inbound:
    try:
        lat, lon = (float(x.replace(",", ".")) for x in args.split())
    except ValueError:
        return Unsupported(sender, "location")
    return Location(sender, lat, lon)


def _photo(sender: Sender, args: str) -> Inbound:
    path = Path(args).expanduser()
    try:
        size = path.stat().st_size
        content = path.read_bytes() if size <= MAX_PHOTO_BYTES else None
    except OSError:
        return Unsupported(sender, "file")
    return Photo(sender, file_id=f"console:{path.name}", content=content, size=size)


def read_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Read a stream in a thread into a queue; None marks the end of input."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    # A daemon thread, so that Ctrl-C is not kept waiting for a line that never comes.
    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue


async def chat(
    channel: ConsoleChannel,
    sender: Sender,
    dispatch: Callable[[Inbound], Awaitable[object]],
    drain: Callable[[], Awaitable[None]],
    stream: TextIO,
) -> None:
    """Run one console conversation until the end of input, each line answered before the next."""
    channel.own_chat = sender.chat_id
    if stream.isatty():
        await dispatch(Command(sender, "start"))
        await drain()
    lines = read_lines(stream)
    while (line := await lines.get()) is not None:
        event = channel.parse(sender, line)
        if event is not None:
            await dispatch(event)
            await drain()
    await drain()

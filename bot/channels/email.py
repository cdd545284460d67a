"""E-mail to the services: one message per report, photos attached, sent with aiosmtplib."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from handlers.events import Reply
from handlers.ports import PermanentError, TemporaryError

log = logging.getLogger(__name__)

CHANNEL = "email"
AUDIO_TYPES = {"ogg": "ogg", "mp3": "mpeg", "m4a": "mp4"}  # a stored voice note's MIME subtype


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to send."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 20.0


class EmailChannel:
    """Sends outbox rows whose chat is an e-mail address; a failure is retried by the outbox."""

    name = CHANNEL

    def __init__(self, smtp: SmtpSettings, data_dir: Path) -> None:
        self._smtp = smtp
        self._data_dir = data_dir

    async def send(self, chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        """Send one e-mail to ``chat_id`` (an address); edits are sent as new e-mails."""
        message = await asyncio.to_thread(self.compose, chat_id, reply)
        s = self._smtp
        try:
            await aiosmtplib.send(
                message, hostname=s.host, port=s.port, username=s.user, password=s.password,
                start_tls=s.starttls, timeout=s.timeout,
            )  # fmt: skip
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPSenderRefused) as e:
            raise PermanentError(type(e).__name__) from e
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            log.warning("e-mail not sent now (%s); it will be retried", type(e).__name__)
            raise TemporaryError(type(e).__name__) from e
        return str(message["Message-ID"])

    def compose(self, to: str, reply: Reply) -> EmailMessage:
        """The e-mail of a reply, with its photos attached as JPEG files and its voice note."""
        message = EmailMessage()
        message["From"] = self._smtp.sender
        message["To"] = to
        message["Subject"] = reply.subject or reply.text.splitlines()[0][:120]
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._smtp.sender.rpartition("@")[2] or None)
        message.set_content(reply.text)
        for i, path in enumerate(reply.photos, 1):
            content = (self._data_dir / path).read_bytes()
            kind, suffix = ("png", "png") if path.endswith(".png") else ("jpeg", "jpg")  # a chart
            message.add_attachment(
                content, maintype="image", subtype=kind, filename=f"photo-{i}.{suffix}"
            )
        if reply.voice:
            suffix = reply.voice.rpartition(".")[2]
            content = (self._data_dir / reply.voice).read_bytes()
            message.add_attachment(
                content, maintype="audio", subtype=AUDIO_TYPES.get(suffix, "ogg"),
                filename=f"voice.{suffix}",
            )  # fmt: skip
        return message

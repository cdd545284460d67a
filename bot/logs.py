"""Logging set-up: our lines at the chosen level, other libraries quiet, secrets redacted.

Libraries log what they handle at DEBUG and INFO: httpx and aiohttp the request URLs (a
Telegram URL carries the bot token), geopy the addresses and coordinates it looks up,
Pillow a photo's EXIF fields, aiosqlite the SQL parameters (what residents wrote). They
stay at WARNING whatever LOG_LEVEL says, and every line that reaches a handler has anything
token-shaped and every configured secret replaced, wherever it comes from.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "[redacted]"
# A Telegram bot token (the colon may come URL-encoded).
TOKEN_SHAPED = re.compile(r"\d+(?::|%3A)[A-Za-z0-9_-]{30,}", re.IGNORECASE)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers of libraries that log request URLs, SQL parameters, addresses or EXIF at DEBUG/INFO.
CHATTY = (
    "aiosqlite", "telegram", "httpx", "httpcore", "hpack", "aiohttp", "aiohttp.access",
    "asyncio", "geopy", "PIL", "viber", "viberbot", "urllib3", "requests", "charset_normalizer",
    "apscheduler", "mail.log", "aiosmtpd", "multipart",
)  # fmt: skip


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message, traceback and stack before it is written."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """The text with every secret and anything token-shaped replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPED.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place (the formatted message replaces msg and args)."""
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # The formatter writes exc_text when it is set, instead of formatting exc_info again.
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``LOG_FORMAT=json``): time, level, logger, message, traceback.

    Only these fields: a record's other attributes (arguments, extras) could hold what a
    resident wrote, and the message and traceback have passed the redacting filter already.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, secrets: Iterable[str | None], *, json_lines: bool = False) -> None:
    """Log to stderr at ``level``; quiet the chatty libraries; redact ``secrets`` everywhere."""
    logging.basicConfig(level=level, stream=sys.stderr, format=FORMAT, force=True)
    redacting = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redacting)
        if json_lines:
            handler.setFormatter(JsonFormatter())
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Warnings go through the same handlers, and so through the same redaction.
    logging.captureWarnings(capture=True)

"""How times are written to the database: ISO 8601 in UTC, which sorts as text."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """Return ``moment`` as the UTC text the database stores (fixed width, so it sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(text: str) -> datetime:
    """Read a stored time back."""
    return datetime.fromisoformat(text)

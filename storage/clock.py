"""How times are written to the database: ISO 8601 in UTC, which sorts as text."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=256)
def iso(moment: datetime) -> str:
    """Return ``moment`` as the UTC text the database stores (fixed width, so it sorts as text).

    Kept for the last moments: an event writes its moment several times (its dedupe, its state,
    its replies).
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(text: str) -> datetime:
    """Read a stored time back."""
    return datetime.fromisoformat(text)

"""The real clock."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Tells the time from the system, in UTC."""

    def now(self) -> datetime:
        """Return the current moment."""
        return datetime.now(UTC)

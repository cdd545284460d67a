"""Fakes of the ports: a clock that stands still, a geocoder with a table, a collecting channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from handlers.events import Reply
from handlers.ports import GeocoderUnavailableError, Place


@dataclass
class FakeClock:
    """A clock that moves only when told."""

    moment: datetime = field(default_factory=lambda: datetime(2026, 5, 17, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        """Return the current fake moment."""
        return self.moment

    def advance(self, **kwargs: float) -> None:
        """Move the clock forward."""
        self.moment += timedelta(**kwargs)


@dataclass
class FakeGeocoder:
    """Knows the addresses in ``places``; ``down`` makes every lookup fail."""

    places: dict[str, Place] = field(default_factory=dict)
    down: bool = False
    queries: list[str] = field(default_factory=list)  # every address asked for

    async def geocode(self, query: str) -> Place | None:
        """Find a known address."""
        self.queries.append(query)
        if self.down:
            raise GeocoderUnavailableError
        return next((p for k, p in self.places.items() if k.lower() in query.lower()), None)

    async def reverse(self, latitude: float, longitude: float) -> str | None:
        """Name a known point."""
        if self.down:
            return None
        for p in self.places.values():
            if abs(p.latitude - latitude) < 1e-3 and abs(p.longitude - longitude) < 1e-3:
                return p.address
        return None


@dataclass
class CollectingChannel:
    """Keeps every reply; ``failures`` are raised, one per send, before anything is kept."""

    name: str = "test"
    sent: list[tuple[str, Reply]] = field(default_factory=list)
    edits: list[tuple[str, int, Reply]] = field(default_factory=list)
    failures_for: dict[str, list[Exception]] = field(default_factory=dict)
    failures: list[Exception] = field(default_factory=list)

    async def send(self, chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        """Keep a reply (an edit replaces the one it edits), or raise the next queued failure."""
        if self.failures:
            raise self.failures.pop(0)
        if self.failures_for.get(chat_id):
            raise self.failures_for[chat_id].pop(0)
        if edit is not None:
            self.edits.append((chat_id, int(edit), reply))
            self.sent[int(edit)] = (chat_id, reply)
            return edit
        self.sent.append((chat_id, reply))
        return str(len(self.sent) - 1)

    def to(self, chat_id: str) -> list[Reply]:
        """Every reply sent to one chat."""
        return [r for c, r in self.sent if c == chat_id]

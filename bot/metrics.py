"""``/metrics`` in Prometheus' format (prometheus-client), on a registry of the process's own.

Counters are counted where things happen: sends (timed) by a wrapper around each channel that
the outbox sender uses, events and handler failures by the dispatcher, job runs by a scheduler
listener. What the database holds (the outbox by status, the oldest due row, broadcasts in
progress) is read at each scrape, through a read-only connection of its own that sees committed
rows only, so the numbers survive restarts and need no hook in the code that writes them.
"""

from __future__ import annotations

import asyncio
import hmac
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client import Counter as PromCounter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from handlers.events import Reply
from handlers.ports import Channel
from storage.clock import iso, parse

PREFIX = "moja_opstina"
# Seconds: a send is a few HTTP requests (photos, long texts in parts) to a messenger or SMTP.
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The process's metrics; one per process, passed to what counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.send_seconds = Histogram(
            f"{PREFIX}_send_seconds", "Time to deliver one outbox message, by channel.",
            ["channel"], buckets=SEND_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.sends = PromCounter(
            f"{PREFIX}_sends", "Delivery attempts by channel and result (ok, or the error's kind).",
            ["channel", "result"], registry=self.registry,
        )  # fmt: skip
        self.job_runs = PromCounter(
            f"{PREFIX}_job_runs", "Scheduled job runs.", ["job"], registry=self.registry
        )
        self.job_failures = PromCounter(
            f"{PREFIX}_job_failures", "Scheduled job runs that failed.", ["job"],
            registry=self.registry,
        )  # fmt: skip

    def watch_database(self, database: Path) -> None:
        """Report what the database holds at each scrape."""
        self.registry.register(DatabaseCollector(database))

    def watch_dispatcher(self, handled: Counter[str], failed: Counter[str]) -> None:
        """Report the dispatcher's counts of events and handler failures, by channel."""
        self.registry.register(DispatchCollector(handled, failed))

    def on_job_executed(self, event: JobExecutionEvent) -> None:
        """An APScheduler listener: a job returning False failed (it logged why)."""
        self.job_runs.labels(event.job_id).inc()
        if event.retval is False:
            self.job_failures.labels(event.job_id).inc()

    def watch_scheduler(self, scheduler: Any) -> None:
        """Count the runs of every job of an APScheduler scheduler."""
        scheduler.add_listener(self.on_job_executed, EVENT_JOB_EXECUTED)

    def timed(self, channels: Mapping[str, Channel]) -> dict[str, Channel]:
        """The channels, each timed and counted on every send."""
        return {name: TimedChannel(channel, self) for name, channel in channels.items()}

    def render(self) -> bytes:
        """The exposition text."""
        return bytes(generate_latest(self.registry))


class TimedChannel:
    """A channel whose sends are timed and counted by result."""

    def __init__(self, channel: Channel, metrics: Metrics) -> None:
        self.name = channel.name
        self._channel = channel
        self._metrics = metrics

    async def send(self, chat_id: str, reply: Reply, *, edit: str | None = None) -> str | None:
        """Send through the channel, measuring it."""
        start = time.perf_counter()
        result = "ok"
        try:
            return await self._channel.send(chat_id, reply, edit=edit)
        except Exception as e:
            result = type(e).__name__
            raise
        finally:
            self._metrics.send_seconds.labels(self.name).observe(time.perf_counter() - start)
            self._metrics.sends.labels(self.name, result).inc()

    def __getattr__(self, name: str) -> Any:
        # What else the outbox sender may ask a channel (what it supports) is the channel's.
        return getattr(self._channel, name)


class DispatchCollector(Collector):
    """The dispatcher's counters, read at each scrape."""

    def __init__(self, handled: Counter[str], failed: Counter[str]) -> None:
        self._handled = handled
        self._failed = failed

    def collect(self) -> Iterable[Metric]:
        """Yield the two counters."""
        handled = CounterMetricFamily(
            f"{PREFIX}_updates_handled", "Events handled, by channel.", labels=["channel"]
        )
        failed = CounterMetricFamily(
            f"{PREFIX}_handler_failures", "Events whose handler failed, by channel.",
            labels=["channel"],
        )  # fmt: skip
        for channel, count in sorted(self._handled.items()):
            handled.add_metric([channel], count)
        for channel, count in sorted(self._failed.items()):
            failed.add_metric([channel], count)
        return [handled, failed]


class DatabaseCollector(Collector):
    """The outbox and the broadcasts as the database holds them now."""

    def __init__(self, database: Path) -> None:
        self._database = database

    def collect(self) -> Iterator[Metric]:
        """Yield the outbox by status, the age of its oldest due row, broadcasts in progress."""
        rows = GaugeMetricFamily(
            f"{PREFIX}_outbox_messages",
            "Outbox messages by channel and status (pending, sending, sent, and given up:"
            " failed, unreachable; sent and given-up ones are purged after 90 days).",
            labels=["channel", "status"],
        )
        oldest = GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_due_seconds",
            "Age of the oldest pending message that is due, by channel (0: none is waiting).",
            labels=["channel"],
        )
        broadcasts = GaugeMetricFamily(
            f"{PREFIX}_broadcasts_in_progress", "Announcements still being sent."
        )
        snapshot = read_outbox(self._database)
        for (channel, status), count in sorted(snapshot.by_status.items()):
            rows.add_metric([channel, status], count)
        for channel in sorted({c for c, _ in snapshot.by_status}):
            oldest.add_metric([channel], snapshot.oldest_due.get(channel, 0.0))
        broadcasts.add_metric([], snapshot.broadcasts)
        yield from (rows, oldest, broadcasts)


class OutboxSnapshot:
    """The outbox's numbers at one moment."""

    def __init__(self) -> None:
        self.by_status: dict[tuple[str, str], int] = {}
        self.oldest_due: dict[str, float] = {}
        self.broadcasts = 0


def read_outbox(database: Path, now: datetime | None = None) -> OutboxSnapshot:
    """Count the outbox through a read-only connection (committed rows only)."""
    now = now or datetime.now(UTC)
    snapshot = OutboxSnapshot()
    uri = f"{database.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=2)) as conn:
        for channel, status, count in conn.execute(
            "SELECT channel, status, COUNT(*) FROM outbox GROUP BY channel, status"
        ):
            snapshot.by_status[(channel, status)] = int(count)
        for channel, first in conn.execute(
            "SELECT channel, MIN(next_attempt_at) FROM outbox"
            " WHERE status = 'pending' AND next_attempt_at <= ? GROUP BY channel",
            (iso(now),),
        ):
            age = (now - parse(first)).total_seconds()
            snapshot.oldest_due[channel] = max(age, 0.0)
        (snapshot.broadcasts,) = conn.execute(
            "SELECT COUNT(*) FROM broadcasts WHERE finished_at IS NULL"
        ).fetchone()
    return snapshot


def metrics_route(metrics: Metrics, token: str | None) -> web.RouteDef:
    """``GET /metrics``; with a token, only for ``Authorization: Bearer <token>``."""

    async def serve(request: web.Request) -> web.Response:
        if token is not None:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return web.Response(status=401, text="a bearer token is required\n")
        body = await asyncio.to_thread(metrics.render)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return web.get("/metrics", serve)

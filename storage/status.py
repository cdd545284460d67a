"""A report's status, and the named sets of statuses the queries use (passed as parameters)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The lifecycle of a report, after FixMyStreet."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    REJECTED = "rejected"
    HANDED_OFF = "handed_off"  # not the municipality's job: an outside body has it


OPEN = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED)
AWAITING_ACKNOWLEDGEMENT = (Status.NEW, Status.REOPENED)
ENDED = (Status.CLOSED, Status.REJECTED, Status.HANDED_OFF)


def marks(statuses: tuple[Status, ...]) -> str:
    """``?, ?, ?`` for an ``IN (...)`` over ``statuses``."""
    return ", ".join("?" for _ in statuses)

"""The status lifecycle of a report, after FixMyStreet, and the card actions it allows."""

from __future__ import annotations

from storage.status import ENDED, Status

S = Status
# new -> acknowledged -> in_progress -> resolved -> closed, with reopened, and the endings rejected
# and handed_off (an outside body is responsible: handlers/bodies.py).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.HANDED_OFF}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.HANDED_OFF}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.REJECTED, S.HANDED_OFF}),
    S.REOPENED: frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.HANDED_OFF}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REJECTED: frozenset({S.REOPENED}),
    S.HANDED_OFF: frozenset({S.REOPENED}),  # handed to the wrong body: the municipality takes it
}

# The card's status buttons, in the order shown: action -> the status it moves to.
CARD_ACTIONS: dict[str, Status] = {
    "ack": S.ACKNOWLEDGED,
    "progress": S.IN_PROGRESS,
    "resolve": S.RESOLVED,
    "reject": S.REJECTED,
}

# Open311 knows two states.
OPEN311 = {status: "closed" if status in ENDED else "open" for status in TRANSITIONS}


def allowed(old: str, new: str) -> bool:
    """Whether a report may go from ``old`` to ``new``."""
    try:
        return Status(new) in TRANSITIONS.get(Status(old), frozenset())
    except ValueError:
        return False


def card_actions(status: str) -> list[str]:
    """The card actions the lifecycle allows from ``status``, in order."""
    return [action for action, target in CARD_ACTIONS.items() if allowed(status, target)]

"""The status lifecycle of a report, after FixMyStreet."""

from __future__ import annotations

# new -> acknowledged -> in_progress -> resolved -> closed, with reopened, and the ending rejected.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged", "in_progress", "resolved", "rejected"}),
    "acknowledged": frozenset({"in_progress", "resolved", "rejected"}),
    "in_progress": frozenset({"resolved", "rejected"}),
    "reopened": frozenset({"acknowledged", "in_progress", "resolved", "rejected"}),
    "resolved": frozenset({"closed", "reopened"}),
    "closed": frozenset({"reopened"}),
    "rejected": frozenset({"reopened"}),
}

# Open311 knows two states.
OPEN311 = {
    status: "closed" if status in ("closed", "rejected") else "open" for status in TRANSITIONS
}


def allowed(old: str, new: str) -> bool:
    """Whether a report may go from ``old`` to ``new``."""
    return new in TRANSITIONS.get(old, frozenset())

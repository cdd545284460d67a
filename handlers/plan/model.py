"""The rules a plan obeys, whether it comes from the municipality file or from an import."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from handlers.texts import N_
from storage.plan import STATUSES, NewMeasure

KEY = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,19}")

STATUS_NAMES = {
    "not_started": N_("not started"),
    "in_progress": N_("in progress"),
    "done": N_("done"),
    "late": N_("late"),
    "dropped": N_("dropped"),
}
STATUS_ICONS = {
    "not_started": "⚪",
    "in_progress": "🔵",
    "done": "✅",
    "late": "🔴",
    "dropped": "⚫",
}


@dataclass(frozen=True, slots=True)
class Flaw:
    """What is wrong with the measure at ``index`` (of the list given), in ``column``."""

    index: int
    column: str
    message: str  # a msgid
    params: dict[str, Any] = field(default_factory=dict)


def plan_flaws(measures: list[NewMeasure], services: set[str]) -> list[Flaw]:
    """Everything wrong with a plan as a whole; an empty list when it may be stored.

    Keys are unique within a measure's plan, and a parent is a measure of the same plan.
    """
    flaws: list[Flaw] = []
    seen: dict[tuple[str, str], int] = {}
    for i, m in enumerate(measures):
        flaws += _measure_flaws(i, m, services)
        if (m.plan, m.key) in seen:
            flaws.append(Flaw(i, "key", N_("the key «{key}» is used twice"), {"key": m.key}))
        if m.parent_key is not None and (m.plan, m.parent_key) not in seen:
            message = N_("the parent «{key}» is not a measure above this one")
            flaws.append(Flaw(i, "parent", message, {"key": m.parent_key}))
        seen.setdefault((m.plan, m.key), i)
    siblings: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for i, m in enumerate(measures):
        siblings[m.plan, m.parent_key].append(i)
    for (_plan, parent), group in siblings.items():
        weighted = [i for i in group if measures[i].weight is not None]
        if parent is not None and weighted and len(weighted) != len(group):
            first = next(i for i in group if measures[i].weight is None)
            message = N_("the activities of «{key}» need a weight each, or none of them")
            flaws.append(Flaw(first, "weight", message, {"key": parent}))
    return flaws


def _measure_flaws(i: int, m: NewMeasure, services: set[str]) -> list[Flaw]:
    flaws = []
    if not KEY.fullmatch(m.key):
        message = N_("«{key}» is not a key (letters, digits, . _ -, at most 20)")
        flaws.append(Flaw(i, "key", message, {"key": m.key[:30]}))
    if not m.title.strip():
        flaws.append(Flaw(i, "title", N_("the title is missing")))
    if m.status not in STATUSES:
        flaws.append(Flaw(i, "status", N_("unknown status «{value}»"), {"value": m.status[:30]}))
    if not 0 <= m.progress <= 100:
        flaws.append(Flaw(i, "progress", N_("the progress must be between 0 and 100")))
    if m.weight is not None and m.weight <= 0:
        flaws.append(Flaw(i, "weight", N_("the weight must be more than 0")))
    if m.starts_on and m.ends_on and m.ends_on < m.starts_on:
        flaws.append(Flaw(i, "end", N_("the measure ends before it starts")))
    if m.service is not None and m.service not in services:
        flaws.append(Flaw(i, "service", N_("unknown service «{value}»"), {"value": m.service}))
    return flaws

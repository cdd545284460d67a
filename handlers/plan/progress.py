"""The plan as a tree, and a parent's progress computed from its children.

A commitment's progress is not written by anyone: it is the weighted mean of its activities'
progress where the activities have weights, otherwise their plain mean, down any depth. Dropped
activities do not count; a parent whose children are all dropped shows its own stored progress.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property

from storage.plan import Measure

BAR_CELLS = 10


class Plan:
    """Every measure, with its children, ancestors and computed progress."""

    def __init__(self, measures: list[Measure]) -> None:
        self.measures = measures
        self.by_id = {m.id: m for m in measures}
        self._children: dict[int | None, list[Measure]] = defaultdict(list)
        for m in measures:
            parent = m.parent_id if m.parent_id in self.by_id else None
            self._children[parent].append(m)

    @property
    def roots(self) -> list[Measure]:
        """The commitments: measures without a parent."""
        return self._children[None]

    def children(self, measure_id: int) -> list[Measure]:
        """A measure's activities, in the plan's order."""
        return self._children.get(measure_id, [])

    def ancestors(self, measure_id: int) -> list[Measure]:
        """The measure's parent, its parent's parent, and so on."""
        found: list[Measure] = []
        m = self.by_id.get(measure_id)
        while (
            m is not None and m.parent_id is not None and m.parent_id not in {a.id for a in found}
        ):
            parent = self.by_id.get(m.parent_id)
            if parent is None:
                break
            found.append(parent)
            m = parent
        return found

    @cached_property
    def _progress(self) -> dict[int, float]:
        done: dict[int, float] = {}

        def compute(m: Measure, seen: frozenset[int]) -> float:
            if m.id in done:
                return done[m.id]
            counted = [c for c in self.children(m.id) if c.status != "dropped" and c.id not in seen]
            if not counted:
                value = float(m.progress)
            else:
                values = [compute(c, seen | {m.id}) for c in counted]
                weights = [c.weight for c in counted]
                if all(w is not None for w in weights):
                    total = sum(w for w in weights if w is not None)
                    value = sum(v * (w or 0) for v, w in zip(values, weights, strict=True)) / total
                else:
                    value = sum(values) / len(values)
            done[m.id] = value
            return value

        for m in self.measures:
            compute(m, frozenset())
        return done

    def progress(self, measure_id: int) -> float:
        """A measure's progress in per cent: stored for an activity, computed for a parent."""
        return self._progress.get(measure_id, 0.0)

    def is_parent(self, measure_id: int) -> bool:
        """Whether the measure has activities (its progress is then computed)."""
        return bool(self.children(measure_id))


def percent(value: float) -> int:
    """A progress rounded to whole per cent, half up (62.5 is 63)."""
    return int(value + 0.5)


def bar(value: float) -> str:
    """A progress bar as text: ``▓▓▓▓▓▓░░░░ 60%``."""
    whole = percent(value)
    filled = min(BAR_CELLS, int(whole * BAR_CELLS / 100 + 0.5))
    return "▓" * filled + "░" * (BAR_CELLS - filled) + f" {whole}%"

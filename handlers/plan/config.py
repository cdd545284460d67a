"""The ``[plan]`` section of the municipality file: the action plan's measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from handlers.i18n import translator
from handlers.plan.model import plan_flaws
from storage import plan as store
from storage.plan import NewMeasure, NewMilestone


class PlanSectionError(Exception):
    """The ``[plan]`` section is invalid; the message names the measure and the problem."""


@dataclass(frozen=True, slots=True)
class PlanSection:
    """The plan's title, whether it is an example, and its measures (parents first)."""

    title: str
    example: bool
    measures: tuple[NewMeasure, ...]


MEASURE_KEYS = {
    "key", "parent", "title", "description", "responsible", "service", "starts_on", "ends_on",
    "status", "progress", "weight", "milestones",
}  # fmt: skip


def parse_plan(data: object, services: set[str]) -> PlanSection | None:
    """The plan of the file's ``[plan]`` table (None when there is none).

    Raises:
        PlanSectionError: naming the measure and what is wrong with it.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        raise PlanSectionError("[plan] must be a table")
    _only(data, "[plan]", {"title", "example", "measures"})
    items = data.get("measures", [])
    if not isinstance(items, list):
        raise PlanSectionError("[plan]: 'measures' must be a list of tables")
    measures = [_measure(item, f"plan measure #{i}") for i, item in enumerate(items, 1)]
    flaws = plan_flaws(measures, services)
    if flaws:
        flaw = flaws[0]
        t = translator("en")
        problem = t.gettext(flaw.message, **flaw.params)
        raise PlanSectionError(f"plan measure #{flaw.index + 1} ({flaw.column}): {problem}")
    return PlanSection(
        str(data.get("title", "")), bool(data.get("example", False)), tuple(measures)
    )


def _only(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise PlanSectionError(f"{where}: unknown key '{unknown[0]}'")


def _get(
    table: dict[str, Any], where: str, key: str, kind: type | tuple[type, ...], default: Any = None
) -> Any:
    value = table.get(key, default)
    if value is None:
        return None
    wrong = (
        isinstance(value, bool) != (kind is bool)
        or not isinstance(value, kind)
        or (kind is date and isinstance(value, datetime))  # a date, not a moment
    )
    if wrong:
        raise PlanSectionError(f"{where}: '{key}' has the wrong type")
    return value


def _measure(item: object, where: str) -> NewMeasure:
    if not isinstance(item, dict):
        raise PlanSectionError(f"{where}: must be a table")
    _only(item, where, MEASURE_KEYS)
    key = _get(item, where, "key", str)
    title = _get(item, where, "title", str)
    if key is None or title is None:
        raise PlanSectionError(f"{where}: needs a 'key' and a 'title'")
    weight = _get(item, where, "weight", (int, float))
    milestones = item.get("milestones", [])
    if not isinstance(milestones, list):
        raise PlanSectionError(f"{where}: 'milestones' must be a list of tables")
    return NewMeasure(
        key=key,
        parent_key=_get(item, where, "parent", str),
        title=title,
        description=_get(item, where, "description", str, ""),
        responsible=_get(item, where, "responsible", str, ""),
        service=_get(item, where, "service", str),
        starts_on=_get(item, where, "starts_on", date),
        ends_on=_get(item, where, "ends_on", date),
        status=_get(item, where, "status", str, "not_started"),
        progress=_get(item, where, "progress", int, 0),
        weight=float(weight) if weight is not None else None,
        milestones=tuple(
            _milestone(x, f"{where}, milestone #{i}") for i, x in enumerate(milestones, 1)
        ),
    )


def _milestone(item: object, where: str) -> NewMilestone:
    if not isinstance(item, dict):
        raise PlanSectionError(f"{where}: must be a table")
    _only(item, where, {"due_on", "text", "done"})
    text = _get(item, where, "text", str)
    if not text:
        raise PlanSectionError(f"{where}: needs a 'text'")
    return NewMilestone(
        _get(item, where, "due_on", date), text, bool(_get(item, where, "done", bool, False))
    )


async def store_file_plan(
    conn: aiosqlite.Connection, section: PlanSection | None, now: datetime
) -> None:
    """Store the file's measures: new ones whole; existing ones keep what staff set in chat."""
    if section is not None:
        await store.save_plan(conn, list(section.measures), now, keep_progress=True)

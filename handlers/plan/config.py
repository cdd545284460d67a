"""The ``[plan]`` section of the municipality file: the plans it publishes and their measures.

A municipality may publish several plans (the local action plan of the Open Government
Partnership, a local plan for social inclusion, one for youth, ...): ``[[plan.plans]]`` names each
(``id``, ``title`` in each language, ``example``) and ``default`` the one that measures without a
``plan`` belong to (the first when not given). A file without ``[[plan.plans]]`` has one plan,
``lap``, titled by ``[plan] title``; a file without ``[plan]`` has that plan without a title (an
import can still fill it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from handlers.i18n import Translator, translator
from handlers.plan.model import plan_flaws
from handlers.social_guide import Localized
from storage import plan as store
from storage.plan import Measure, NewMeasure, NewMilestone

# A plan's id: short (it travels in button data and in /measure PLAN:KEY), never a colon.
PLAN_ID = re.compile(r"[a-z][a-z0-9_-]{0,15}")
SINGLE_PLAN = "lap"  # the id of the one plan of a file that names none
LANGUAGES = {"sr", "bs", "en", "hu"}


class PlanSectionError(Exception):
    """The ``[plan]`` section is invalid; the message names the measure and the problem."""


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """One plan the municipality publishes: its id, its title, whether it is an example."""

    id: str
    title: Localized
    example: bool = False

    def title_in(self, t: Translator) -> str:
        """The title in the reader's language and script ("" when the file gives none)."""
        return self.title.in_language(t.language) if self.title.texts else ""


@dataclass(frozen=True, slots=True)
class PlanSection:
    """The plans (in the file's order), the default one, and every plan's measures."""

    plans: tuple[PlanInfo, ...]
    default: str
    measures: tuple[NewMeasure, ...] = ()

    @property
    def several(self) -> bool:
        """Whether residents first choose a plan (and staff may need to name one)."""
        return len(self.plans) > 1

    def get(self, plan_id: str) -> PlanInfo | None:
        """The plan with this id, None when the file names no such plan."""
        return next((p for p in self.plans if p.id == plan_id), None)

    def title_of(self, t: Translator, plan_id: str) -> str:
        """A plan's title for the reader; its id when the file names it no more."""
        found = self.get(plan_id)
        return found.title_in(t) if found else plan_id


NO_PLAN = PlanSection((PlanInfo(SINGLE_PLAN, Localized(())),), SINGLE_PLAN)


MEASURE_KEYS = {
    "plan", "key", "parent", "title", "description", "responsible", "service", "starts_on",
    "ends_on", "status", "progress", "weight", "milestones",
}  # fmt: skip


def parse_plan(data: object, services: set[str]) -> PlanSection:
    """The plans of the file's ``[plan]`` table (one untitled plan when there is none).

    Raises:
        PlanSectionError: naming the plan or the measure and what is wrong with it.
    """
    if data is None:
        return NO_PLAN
    if not isinstance(data, dict):
        raise PlanSectionError("[plan] must be a table")
    _only(data, "[plan]", {"title", "example", "default", "plans", "measures"})
    plans = _plans(data)
    default = _get(data, "[plan]", "default", str, plans[0].id)
    if not any(p.id == default for p in plans):
        raise PlanSectionError(f"[plan]: 'default' names no plan ('{default}')")
    items = data.get("measures", [])
    if not isinstance(items, list):
        raise PlanSectionError("[plan]: 'measures' must be a list of tables")
    measures = [_measure(item, f"plan measure #{i}", default) for i, item in enumerate(items, 1)]
    for i, m in enumerate(measures, 1):
        if not any(p.id == m.plan for p in plans):
            raise PlanSectionError(f"plan measure #{i}: 'plan' names no plan ('{m.plan}')")
    flaws = plan_flaws(measures, services)
    if flaws:
        flaw = flaws[0]
        t = translator("en")
        problem = t.gettext(flaw.message, **flaw.params)
        raise PlanSectionError(f"plan measure #{flaw.index + 1} ({flaw.column}): {problem}")
    return PlanSection(plans, default, tuple(measures))


def _plans(data: dict[str, Any]) -> tuple[PlanInfo, ...]:
    if "plans" not in data:
        title = _title(data, "[plan]")
        return (PlanInfo(SINGLE_PLAN, title, bool(_get(data, "[plan]", "example", bool, False))),)
    if "title" in data:
        raise PlanSectionError("[plan]: with [[plan.plans]] each plan has its own 'title'")
    items = data["plans"]
    if not isinstance(items, list) or not items:
        raise PlanSectionError("[plan]: 'plans' must be a list of tables")
    example = bool(_get(data, "[plan]", "example", bool, False))
    plans: list[PlanInfo] = []
    for i, item in enumerate(items, 1):
        where = f"plan #{i}"
        if not isinstance(item, dict):
            raise PlanSectionError(f"{where}: must be a table")
        _only(item, where, {"id", "title", "example"})
        plan_id = _get(item, where, "id", str)
        if plan_id is None or not PLAN_ID.fullmatch(plan_id):
            raise PlanSectionError(
                f"{where}: 'id' must be a short id (a-z, 0-9, _ -, at most 16, no colon)"
            )
        if any(p.id == plan_id for p in plans):
            raise PlanSectionError(f"{where}: the id '{plan_id}' is used twice")
        title = _title(item, where)
        if not title.texts:
            raise PlanSectionError(f"{where}: needs a 'title'")
        plans.append(PlanInfo(plan_id, title, bool(_get(item, where, "example", bool, example))))
    return tuple(plans)


def _title(table: dict[str, Any], where: str) -> Localized:
    """A title: Serbian Cyrillic text, or a table of languages (sr, bs, en, hu) with sr."""
    value = table.get("title")
    if value is None:
        return Localized(())
    if isinstance(value, str):
        value = {"sr": value}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise PlanSectionError(f"{where}: 'title' must be text or a table of languages")
    unknown = sorted(set(value) - LANGUAGES)
    if unknown:
        raise PlanSectionError(f"{where}: 'title' has an unknown language '{unknown[0]}'")
    if not str(value.get("sr", "")).strip():
        raise PlanSectionError(f"{where}: 'title' needs the Serbian text (sr)")
    return Localized(tuple(sorted((k, str(v).strip()) for k, v in value.items())))


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


def _measure(item: object, where: str, default_plan: str) -> NewMeasure:
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
        plan=_get(item, where, "plan", str, default_plan),
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


async def store_file_plan(conn: aiosqlite.Connection, section: PlanSection, now: datetime) -> None:
    """Store the file's measures: new ones whole; existing ones keep what staff set in chat.

    Measures stored before plans had ids become the default plan's first.
    """
    await store.claim_unassigned(conn, section.default)
    await store.save_plan(conn, list(section.measures), now, keep_progress=True)


async def published_measure(
    conn: aiosqlite.Connection, plans: PlanSection, measure_id: int
) -> Measure | None:
    """The stored measure, None when there is none or the file no longer publishes its plan.

    Measures of a plan taken out of the file stay in the database; a stale or forged button must
    not show, follow or comment on them.
    """
    m = await store.get(conn, measure_id)
    return m if m is not None and plans.get(m.plan) is not None else None

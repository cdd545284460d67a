"""The ``[budget]`` section of the municipality file: the consultation period on next year's
budget (the bot opens and closes it at its dates) and the rule of participatory budgeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

PB_RULES = ("total", "projects")  # within the total, or up to N projects
MAX_PROJECTS = 20  # a round's shortlist holds at most this many


class BudgetSectionError(Exception):
    """The ``[budget]`` section is invalid; the message names the key and the problem."""


@dataclass(frozen=True, slots=True)
class ConsultationPeriod:
    """The file's consultation: the budget year it drafts, its first and its last day."""

    year: int
    starts_on: date
    ends_on: date

    @property
    def key(self) -> str:
        """The stored consultation's key: the file's period is stored once."""
        return f"budget:{self.year}"

    def starts_at(self, zone: ZoneInfo) -> datetime:
        """The first day's start in the municipality's time zone."""
        return datetime.combine(self.starts_on, time(0, 0), zone)

    def ends_at(self, zone: ZoneInfo) -> datetime:
        """The last day's end, as ``/budget consult`` sets it (23:59)."""
        return datetime.combine(self.ends_on, time(23, 59), zone)


@dataclass(frozen=True, slots=True)
class BudgetSection:
    """The file's consultation period (if any) and the ballot's rule.

    ``max_projects`` is None when a ballot holds projects within the round's total, or N when it
    holds up to N projects whatever they cost (the funded ones still fit the total).
    """

    consultation: ConsultationPeriod | None = None
    max_projects: int | None = None


def parse_budget(data: object) -> BudgetSection | None:
    """The file's ``[budget]`` table (None when there is none).

    Raises:
        BudgetSectionError: naming the key and what is wrong with it.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        raise BudgetSectionError("[budget] must be a table")
    _only(data, "[budget]", {"consultation", "pb"})
    return BudgetSection(_consultation(data.get("consultation")), _max_projects(data.get("pb")))


def _only(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise BudgetSectionError(f"{where}: unknown key '{unknown[0]}'")


def _day(table: dict[str, Any], where: str, key: str) -> date:
    value = table.get(key)
    # A TOML date (2026-10-01), not a moment and not a text such as "01.10.2026".
    if not isinstance(value, date) or isinstance(value, datetime):
        raise BudgetSectionError(f"{where}: '{key}' must be a date such as 2026-10-01")
    return value


def _consultation(table: object) -> ConsultationPeriod | None:
    where = "[budget.consultation]"
    if table is None:
        return None
    if not isinstance(table, dict):
        raise BudgetSectionError(f"{where} must be a table")
    _only(table, where, {"year", "starts_on", "ends_on"})
    starts, ends = _day(table, where, "starts_on"), _day(table, where, "ends_on")
    if ends < starts:
        raise BudgetSectionError(f"{where}: 'ends_on' is before 'starts_on'")
    year = table.get("year")
    if type(year) is not int or not starts.year - 1 <= year <= starts.year + 2:
        raise BudgetSectionError(f"{where}: 'year' must be the budget year, near 'starts_on'")
    return ConsultationPeriod(year, starts, ends)


def _max_projects(table: object) -> int | None:
    where = "[budget.pb]"
    if table is None:
        return None
    if not isinstance(table, dict):
        raise BudgetSectionError(f"{where} must be a table")
    _only(table, where, {"rule", "max_projects"})
    rule = table.get("rule", "total")
    if rule not in PB_RULES:
        raise BudgetSectionError(f'{where}: \'rule\' must be "total" or "projects"')
    if rule == "total":
        if "max_projects" in table:
            raise BudgetSectionError(f"{where}: 'max_projects' needs rule = \"projects\"")
        return None
    n = table.get("max_projects")
    if type(n) is not int or not 1 <= n <= MAX_PROJECTS:
        raise BudgetSectionError(f"{where}: 'max_projects' must be 1 to {MAX_PROJECTS}")
    return n

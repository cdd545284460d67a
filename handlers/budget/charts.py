"""The budget's pictures as data (handlers/events.Chart): spending by program, planned against
executed, and a program's activities. The outbox sender draws them after the transaction."""

from __future__ import annotations

from handlers.budget.money import in_millions, per_cent
from handlers.budget.programs import program_name
from handlers.events import MAX_CHART_BARS, Chart
from handlers.i18n import Translator
from storage.budget import Total, Version

MILLION = 100_000_000  # para in a million dinars


def _chart(t: Translator, v: Version, title: str, labels: list[str], totals: list[Total]) -> Chart:
    planned = tuple(x.planned / MILLION for x in totals)
    unit = t.gettext("million dinars")
    if v.kind != "execution":
        return Chart(
            title, tuple(labels), planned,
            value_labels=tuple(in_millions(t, x.planned) for x in totals), unit=unit,
        )  # fmt: skip
    return Chart(
        title,
        tuple(labels),
        tuple(x.executed / MILLION for x in totals),
        reference=planned,
        legend=(t.gettext("executed"), t.gettext("planned")),
        value_labels=tuple(f"{per_cent(x.executed, x.planned)}%" for x in totals),
        unit=unit,
    )


def spending(t: Translator, v: Version, programs: list[Total]) -> Chart | None:
    """Spending by program (planned; in an execution report, executed against planned)."""
    if not programs or len(programs) > MAX_CHART_BARS:
        return None
    title = t.gettext("Spending by program, {year} ({date})", year=v.year, date=t.date(v.as_of))
    return _chart(t, v, title, [program_name(t, p.key) for p in programs], programs)


def activities(t: Translator, v: Version, program: str, totals: list[Total]) -> Chart | None:
    """A program's activities and projects (None when too many bars would not read)."""
    if not totals or len(totals) > MAX_CHART_BARS:
        return None
    title = f"{program} {program_name(t, program)} ({v.year})"
    return _chart(t, v, title, [t.name(a.name) for a in totals], totals)

"""A checked plan file stored, with an event per change and its followers told."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from handlers.events import Outgoing
from handlers.i18n import Translator
from handlers.plan.config import PlanSection
from handlers.plan.model import STATUS_NAMES
from handlers.plan.notices import Say, tell_followers
from handlers.plan.progress import Plan
from storage import plan as store
from storage.plan import Change, NewMeasure


async def import_plan(
    conn: aiosqlite.Connection,
    file_name: str,
    measures: list[NewMeasure],
    now: datetime,
    plans: PlanSection,
) -> tuple[int, list[Outgoing]]:
    """Store the measures of a checked file; return how many changed and the followers' notices.

    Unlike the municipality file read at every start, an import sets status, progress and
    milestones too: it is the staff's own update. Each measure goes to its own plan.
    """
    await store.claim_unassigned(conn, plans.default)
    changes = await store.save_plan(conn, measures, now, keep_progress=False, note=file_name)
    plan = Plan(await store.all_measures(conn))
    out: list[Outgoing] = []
    by_measure: dict[int, list[Change]] = {}
    for change in changes:
        by_measure.setdefault(change.measure_id, []).append(change)
    for measure_id, mine in by_measure.items():
        m = plan.by_id.get(measure_id)
        if m is not None:
            out += await tell_followers(conn, plan, m, _notice(mine), plans)
    return len(by_measure), out


def _notice(changes: list[Change]) -> Say:
    def say(t: Translator) -> str:
        lines = []
        for c in changes:
            if c.kind == "progress":
                lines.append(t.gettext("Progress: {old}% → {new}%", old=c.old, new=c.new))
            else:
                lines.append(
                    t.gettext(
                        "Status: {old} → {new}",
                        old=t.gettext(STATUS_NAMES.get(c.old, c.old)),
                        new=t.gettext(STATUS_NAMES.get(c.new, c.new)),
                    )
                )
        return "\n".join(lines)

    return say

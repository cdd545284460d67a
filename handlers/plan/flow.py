"""The action plan as a flow: residents read and follow it, staff update it, a job marks late."""

from __future__ import annotations

from handlers.flow import Anywhere, CommandSpec, Entry, Flow, Job, Role
from handlers.menu import Menu
from handlers.plan import resident, staff
from handlers.plan.buttons import FollowMeasure, MeasureHistory, ShowMeasure, ShowPlan
from handlers.plan.notices import mark_overdue
from handlers.texts import N_

FLOW = Flow(
    name="plan",
    anywhere={
        ShowPlan: Anywhere(resident.show_plan),
        ShowMeasure: Anywhere(resident.show_measure),
        MeasureHistory: Anywhere(resident.show_history),
        FollowMeasure: Anywhere(resident.follow),
    },
    commands=(
        CommandSpec(
            "plan", resident.plan_command, help=N_("the action plan and its progress"), listed=True
        ),
        CommandSpec(
            "measure",
            staff.measure_command,
            role=Role.OPERATOR,
            help=N_("update a measure of the action plan"),
            leaves=False,
        ),
    ),
    entries=(Entry(N_("🎯 Action plan"), Menu("plan"), resident.open_plan, order=35),),
    jobs=(Job("plan-overdue", mark_overdue, seconds=3600),),
)

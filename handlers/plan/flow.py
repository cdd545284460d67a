"""The action plan as a flow: residents read and follow it, staff update it, a job marks late."""

from __future__ import annotations

from handlers.events import Text
from handlers.flow import Anywhere, CommandSpec, Entry, Flow, Job, Role
from handlers.menu import Menu
from handlers.plan import comments, resident, staff
from handlers.plan.buttons import (
    CommentOnMeasure,
    FollowMeasure,
    MeasureHistory,
    ShowMeasure,
    ShowPlan,
)
from handlers.plan.notices import mark_overdue
from handlers.texts import N_

FLOW = Flow(
    name="plan",
    states=comments.PlanState,
    steps={(comments.PlanState.COMMENT, Text): comments.add_comment},
    hints={
        comments.PlanState.COMMENT: N_("Please write your comment as a text message, or /cancel.")
    },
    keeps=frozenset({comments.PlanState.COMMENT}),
    anywhere={
        CommentOnMeasure: Anywhere(comments.start_comment),
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
        CommandSpec(
            "plananswer",
            comments.answer_command,
            role=Role.OPERATOR,
            help=N_("answer a resident's comment on a measure"),
            leaves=False,
        ),
    ),
    entries=(Entry(N_("🎯 Action plan"), Menu("plan"), resident.open_plan, order=35),),
    jobs=(Job("plan-overdue", mark_overdue, seconds=3600),),
)

"""The action plan as a flow: residents read and follow it, staff update it, a job marks late."""

from __future__ import annotations

from handlers.events import File, Text
from handlers.flow import Anywhere, CommandSpec, Entry, Flow, Job, Role, Typed
from handlers.menu import Menu
from handlers.plan import chat_import, comments, resident, staff
from handlers.plan.buttons import (
    CommentOnMeasure,
    FollowMeasure,
    MeasureHistory,
    MoreActivities,
    MoreCommitments,
    OpenPlan,
    ShowMeasure,
    ShowPlan,
)
from handlers.plan.chat_import import IMPORT_STATES, PlanImportDecision
from handlers.plan.notices import mark_overdue
from handlers.texts import N_

FLOW = Flow(
    name="plan",
    states=comments.PlanState,
    steps={
        (comments.PlanState.COMMENT, Text): comments.add_comment,
        (comments.PlanState.IMPORT, File): chat_import.receive,
        (comments.PlanState.IMPORT_CONFIRM, PlanImportDecision): chat_import.decide,
    },
    hints={
        comments.PlanState.COMMENT: N_("Please write your comment as a text message, or /cancel."),
        comments.PlanState.IMPORT: N_("Please send the file as a document, or /cancel."),
        comments.PlanState.IMPORT_CONFIRM: N_("Please import or cancel with the buttons."),
    },
    typed={comments.PlanState.COMMENT: Typed()},
    keeps=frozenset({comments.PlanState.COMMENT}) | IMPORT_STATES,
    prompts={state: lambda ctx: [] for state in IMPORT_STATES},
    look_ups={(comments.PlanState.IMPORT, File): chat_import.read_file},
    state_roles={state: Role.ADMIN for state in IMPORT_STATES},
    anywhere={
        CommentOnMeasure: Anywhere(comments.start_comment),
        ShowPlan: Anywhere(resident.choose_plan),
        OpenPlan: Anywhere(resident.open_one),
        ShowMeasure: Anywhere(resident.show_measure),
        MoreCommitments: Anywhere(resident.more_commitments),
        MoreActivities: Anywhere(resident.more_activities),
        MeasureHistory: Anywhere(resident.show_history),
        FollowMeasure: Anywhere(resident.follow),
    },
    commands=(
        CommandSpec(
            "plan",
            resident.plan_command,
            help=N_("the action plan and its progress"),
            listed=True,
        ),
        CommandSpec(
            "measure",
            staff.measure_command,
            role=Role.OPERATOR,
            help=N_(
                "update a measure of a plan: /measure KEY ... (PLAN:KEY when plans share the key)"
            ),
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

"""The budget's flow: the steps, buttons, commands, entries and jobs of handlers/budget/."""

from __future__ import annotations

from handlers.budget import audit, consultation, pb, period, proposal_list, residents, staff
from handlers.budget.commands import budget_command
from handlers.budget.staff import ADMIN_STATES, BudgetState
from handlers.events import File, Location, Photo, Text
from handlers.flow import Anywhere, CommandSpec, Entry, Flow, Job, Role, Typed
from handlers.menu import Menu
from handlers.photos import save_photo
from handlers.texts import N_

FLOW = Flow(
    name="budget",
    states=BudgetState,
    steps={
        (BudgetState.KIND, staff.ChooseKind): staff.choose_kind,
        (BudgetState.DATE, Text): staff.write_date,
        (BudgetState.FILE, File): staff.receive_file,
        (BudgetState.CONFIRM, staff.Publish): staff.decide,
        (BudgetState.REASON, Text): consultation.write_reason,
        (BudgetState.PROGRAM, consultation.ProposalProgram): consultation.choose_program,
        (BudgetState.WHAT, Text): consultation.write_what,
        (BudgetState.COST, Text): consultation.write_cost,
        (BudgetState.COST, consultation.ProposalNext): consultation.write_cost,
        (BudgetState.EXTRA, Photo): consultation.add_extra,
        (BudgetState.EXTRA, Location): consultation.add_extra,
        (BudgetState.EXTRA, consultation.ProposalNext): consultation.send,
    },
    hints={
        BudgetState.KIND: N_("Please choose the kind of document with the buttons."),
        BudgetState.DATE: N_(
            "Please write the date as 30.06.2026 (and the budget year after it, if another)."
        ),
        BudgetState.FILE: N_("Please send the file as a document (CSV or XLSX)."),
        BudgetState.CONFIRM: N_("Please publish or drop the preview with the buttons."),
        BudgetState.REASON: N_("Please write the reason as a text message, or /cancel."),
        BudgetState.PROGRAM: N_("Please choose the area with the buttons, or /cancel."),
        BudgetState.WHAT: N_("Please write your proposal as a text message, or /cancel."),
        BudgetState.COST: N_("Please write the cost as a number (1.500.000), or press the button."),
        BudgetState.EXTRA: N_("Please send a photo or a location, or press Send."),
    },
    prompts={
        BudgetState.KIND: staff.kind_prompt,
        BudgetState.DATE: staff.date_prompt,
        BudgetState.FILE: staff.file_prompt,
        BudgetState.PROGRAM: consultation.program_prompt,
        BudgetState.WHAT: consultation.what_prompt,
        BudgetState.COST: consultation.cost_prompt,
        BudgetState.EXTRA: consultation.extra_prompt,
    },
    anywhere={
        residents.ShowBudget: Anywhere(residents.show),
        residents.ShowProgram: Anywhere(residents.show_program),
        residents.FollowProgram: Anywhere(residents.follow_program),
        period.Propose: Anywhere(consultation.start),
        period.MyProposals: Anywhere(consultation.my_proposals),
        consultation.Verdict: Anywhere(consultation.choose_verdict),
        consultation.ChangeAnswer: Anywhere(consultation.choose_verdict),
        audit.HistoryPage: Anywhere(audit.older, leaves=False),
        proposal_list.ProposalPage: Anywhere(proposal_list.page, leaves=False),
        proposal_list.OpenProposal: Anywhere(proposal_list.open_card, leaves=False),
        pb.ShowBallot: Anywhere(pb.show_ballot),
        pb.ToggleProject: Anywhere(pb.toggle),
    },
    commands=(
        CommandSpec(
            "budget",
            budget_command,
            role=Role.ADMIN,
            help=N_(
                "the budget: /budget import, consult YEAR FROM TO, consult close, proposals,"
                " history"
            ),
        ),
        CommandSpec(
            "pb",
            pb.command,
            role=Role.ADMIN,
            help=N_("participatory budgeting: /pb new, add, open, paper, close"),
        ),
    ),
    entries=(Entry(N_("💰 Budget"), Menu("budget"), residents.overview, order=33),),
    look_ups={
        (BudgetState.EXTRA, Photo): save_photo,
        (BudgetState.FILE, File): staff.read_sent_file,
    },
    jobs=(Job("budget-consultation-period", consultation.keep_period, seconds=60),),
    typed={state: Typed() for state in (BudgetState.WHAT, BudgetState.COST, BudgetState.REASON)},
    keeps=frozenset({BudgetState.CONFIRM}),
    cancel=staff.cancel,
    state_roles={state: Role.ADMIN for state in ADMIN_STATES},
)

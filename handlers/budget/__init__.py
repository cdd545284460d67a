"""The budget: residents see where the money goes and follow its execution; staff import it."""

from __future__ import annotations

from handlers.budget import residents, staff
from handlers.budget.staff import BudgetState
from handlers.events import File, Text
from handlers.flow import Anywhere, CommandSpec, Entry, Flow, Role
from handlers.menu import Menu
from handlers.texts import N_

FLOW = Flow(
    name="budget",
    states=BudgetState,
    steps={
        (BudgetState.KIND, staff.ChooseKind): staff.choose_kind,
        (BudgetState.DATE, Text): staff.write_date,
        (BudgetState.FILE, File): staff.receive_file,
        (BudgetState.CONFIRM, staff.Publish): staff.decide,
    },
    hints={
        BudgetState.KIND: N_("Please choose the kind of document with the buttons."),
        BudgetState.DATE: N_(
            "Please write the date as 30.06.2026 (and the budget year after it, if another)."
        ),
        BudgetState.FILE: N_("Please send the file as a document (CSV or XLSX)."),
        BudgetState.CONFIRM: N_("Please publish or drop the preview with the buttons."),
    },
    prompts={
        BudgetState.KIND: staff.kind_prompt,
        BudgetState.DATE: staff.date_prompt,
        BudgetState.FILE: staff.file_prompt,
    },
    anywhere={
        residents.ShowBudget: Anywhere(residents.show),
        residents.ShowProgram: Anywhere(residents.show_program),
        residents.FollowProgram: Anywhere(residents.follow_program),
    },
    commands=(
        CommandSpec(
            "budget",
            staff.start,
            role=Role.ADMIN,
            help=N_("import a budget document (/budget import)"),
        ),
    ),
    entries=(Entry(N_("💰 Budget"), Menu("budget"), residents.overview, order=33),),
    keeps=frozenset({BudgetState.CONFIRM}),
    cancel=staff.cancel,
    role=Role.ADMIN,
)

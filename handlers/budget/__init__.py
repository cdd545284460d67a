"""The budget: residents see where the money goes and follow its execution; staff import it."""

from __future__ import annotations

from handlers.budget import residents
from handlers.flow import Anywhere, Entry, Flow
from handlers.menu import Menu
from handlers.texts import N_

FLOW = Flow(
    name="budget",
    anywhere={
        residents.ShowBudget: Anywhere(residents.show),
        residents.ShowProgram: Anywhere(residents.show_program),
    },
    entries=(Entry(N_("💰 Budget"), Menu("budget"), residents.overview, order=35),),
)

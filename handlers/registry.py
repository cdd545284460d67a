"""The features of the bot: one line each. The engine, the main menu, /help, the messengers'
command menus and the scheduler are all built from this list."""

from __future__ import annotations

from handlers import (
    announce,
    bodies,
    consultations,
    followup,
    jobs,
    menu,
    my_reports,
    notifications,
    opendata,
    privacy,
    report,
    social,
    social_private,
)
from handlers.budget import flow as budget
from handlers.flow import Flow, Registry
from handlers.library import flow as library
from handlers.plan import flow as plan
from handlers.staff import commands as staff

FLOWS: tuple[Flow, ...] = (
    menu.FLOW,
    report.FLOW,
    my_reports.FLOW,
    followup.FLOW,
    consultations.FLOW,
    library.FLOW,
    plan.FLOW,
    social.FLOW,
    social_private.FLOW,
    budget.FLOW,
    notifications.FLOW,
    privacy.FLOW,
    announce.FLOW,
    staff.FLOW,
    bodies.FLOW,
    opendata.FLOW,
    jobs.FLOW,
)

REGISTRY = Registry(FLOWS, home=menu.MenuState.MAIN, first=menu.MenuState.LANGUAGE)

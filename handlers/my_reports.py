"""My reports: the resident's reports, newest first, and one report's details and history."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.context import Context, Step, column
from handlers.events import Reply
from handlers.flow import Anywhere, ButtonData, Entry, Flow
from handlers.followup import CommentOn, start_comment
from handlers.menu import Menu, MenuState, main_menu_button, menu_reply
from handlers.report import location_text
from handlers.texts import N_, category_name, event_name, status_name
from handlers.voice import voice_line
from storage import duplicates, reports
from storage.reports import ReportEvent

LIST_LIMIT = 10
# What a follower sees of another resident's report: the municipality's side, not the
# reporter's comments and answers.
FOLLOWER_SEES = frozenset({"created", "status", "reply", "rerouted", "fix_photo"})


class MineState(StrEnum):
    """Looking at one's own reports."""

    LIST = "mine:list"


MINE = MineState.LIST


@dataclass(frozen=True, slots=True)
class ShowReport(ButtonData):
    """One of the resident's reports, to see its details."""

    prefix = "rep"
    report_id: int


async def list_reports(ctx: Context) -> Step:
    """Show the resident's reports with their status, newest first."""
    _ = ctx.t.gettext
    mine = await reports.list_for_user(ctx.conn, ctx.user.id, LIST_LIMIT)
    if not mine:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, _("You have not reported anything yet."))])
    many = len(mine) == LIST_LIMIT
    total = await reports.count_for_user(ctx.conn, ctx.user.id) if many else len(mine)
    header = ctx.t.ngettext("You have {n} report.", "You have {n} reports.", total)
    if total > len(mine):
        header += " " + _("The newest {shown} are shown.", shown=len(mine))
    choices = [
        ShowReport(r.id).button(
            f"{r.ref} · {category_name(ctx.t, r.category)} · {status_name(ctx.t, r.status)}"
        )
        for r in mine
    ]
    choices.append(main_menu_button(ctx))
    return Step(MINE, {}, [Reply(header, column(choices))])


async def show_report(ctx: Context, press: ShowReport) -> Step | None:
    """Show one of the resident's reports (their own or one they follow) with its history."""
    _ = ctx.t.gettext
    report = await reports.get_report(ctx.conn, press.report_id)
    own = report is not None and report.user_id == ctx.user.id
    if report is None or not (
        own or await duplicates.is_following(ctx.conn, report.id, ctx.user.id)
    ):
        return Step(MINE, {}, [Reply(_("That report was not found among yours."))])
    history = "\n".join(
        history_line(ctx, e) for e in report.events if e.public and (own or e.kind in FOLLOWER_SEES)
    )
    text = _(
        "Report {ref}\nStatus: {status}\nCategory: {category}\nDescription: {description}\n"
        "Location: {location}\nPhotos: {photos}\n\nHistory:\n{history}",
        ref=report.ref,
        status=status_name(ctx.t, report.status),
        category=category_name(ctx.t, report.category),
        description=report.description or (voice_line(ctx.t) if report.voice else ""),
        location=location_text(
            ctx,
            {"address": report.address, "latitude": report.latitude, "longitude": report.longitude},
        ),
        photos=len(report.photo_paths),
        history=history,
    )
    choices = [Menu("mine").button(_("📋 My reports")), main_menu_button(ctx)]
    if report.is_open and own:
        choices.insert(0, CommentOn(report.id).button(_("💬 Add a comment or a photo")))
    return Step(MINE, {}, [Reply(text, column(choices))])


def history_line(ctx: Context, e: ReportEvent) -> str:
    """One public entry of a report's history as the resident sees it."""
    line = f"{ctx.t.datetime(e.at)} - {event_name(ctx.t, e.kind)}"
    if e.kind == "status" and e.new_status:
        line += f": {status_name(ctx.t, e.new_status)}"
    text = e.text
    if e.kind == "rerouted" and text in ctx.municipality.services:
        text = ctx.t.name(ctx.municipality.services[text].name)
    if text:
        line += f"\n  {text}"
    if e.photo:
        line += "\n  📷"
    if e.voice:
        line += "\n  " + voice_line(ctx.t)
    return line


async def _comment(ctx: Context, press: CommentOn) -> Step | None:
    return await start_comment(ctx, press)


FLOW = Flow(
    name="mine",
    states=MineState,
    steps={(MINE, CommentOn): _comment},
    anywhere={ShowReport: Anywhere(show_report)},
    hints={MINE: N_("Please choose a report to see its details, or go back to the menu.")},
    prompts={MINE: lambda ctx: [menu_reply(ctx)]},
    entries=(Entry(N_("📋 My reports"), Menu("mine"), list_reports, order=20),),
)

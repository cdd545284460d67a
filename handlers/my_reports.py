"""My reports: the resident's reports, newest first, and one report's details and history."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.context import Context, Step, column, parse_id
from handlers.events import ButtonChoice, Reply
from handlers.menu import MENU_STATE, menu_reply
from handlers.report import location_text
from handlers.texts import category_name, event_name, status_name
from storage import reports
from storage.reports import ReportEvent

MINE = "mine"
LIST_LIMIT = 10


async def list_reports(ctx: Context) -> Step:
    """Show the resident's reports with their status, newest first."""
    _ = ctx.t.gettext
    mine = await reports.list_for_user(ctx.conn, ctx.user.id, LIST_LIMIT)
    if not mine:
        return Step(MENU_STATE, {}, [menu_reply(ctx, _("You have not reported anything yet."))])
    many = len(mine) == LIST_LIMIT
    total = await reports.count_for_user(ctx.conn, ctx.user.id) if many else len(mine)
    header = ctx.t.ngettext("You have {n} report.", "You have {n} reports.", total)
    if total > len(mine):
        header += " " + _("The newest {shown} are shown.", shown=len(mine))
    pairs = [
        (
            f"{r.ref} · {category_name(ctx.t, r.category)} · {status_name(ctx.t, r.status)}",
            f"rep:{r.id}",
        )
        for r in mine
    ]
    pairs.append((_("↩️ Main menu"), "menu:main"))
    return Step(MINE, {}, [Reply(header, column(pairs))])


async def show_report(ctx: Context, event: ButtonChoice) -> Step | None:
    """Show one of the resident's own reports with its history."""
    _ = ctx.t.gettext
    raw = event.data.removeprefix("rep:")
    report_id = parse_id(raw)
    if not event.data.startswith("rep:") or report_id is None:
        return None
    report = await reports.get_report(ctx.conn, report_id)
    if report is None or report.user_id != ctx.user.id:
        return Step(MINE, {}, [Reply(_("That report was not found among yours."))])
    zone = ZoneInfo(ctx.municipality.timezone)
    history = "\n".join(history_line(ctx, e, zone) for e in report.events if e.public)
    text = _(
        "Report {ref}\nStatus: {status}\nCategory: {category}\nDescription: {description}\n"
        "Location: {location}\nPhotos: {photos}\n\nHistory:\n{history}",
        ref=report.ref,
        status=status_name(ctx.t, report.status),
        category=category_name(ctx.t, report.category),
        description=report.description,
        location=location_text(
            ctx,
            {"address": report.address, "latitude": report.latitude, "longitude": report.longitude},
        ),
        photos=len(report.photo_paths),
        history=history,
    )
    pairs = [(_("📋 My reports"), "menu:mine"), (_("↩️ Main menu"), "menu:main")]
    if report.is_open:
        pairs.insert(0, (_("💬 Add a comment or a photo"), f"cm:{report.id}"))
    back = column(pairs)
    return Step(MINE, {}, [Reply(text, back)])


def history_line(ctx: Context, e: ReportEvent, zone: ZoneInfo) -> str:
    """One public entry of a report's history as the resident sees it."""
    line = f"{e.at.astimezone(zone).strftime('%d.%m.%Y %H:%M')} - {event_name(ctx.t, e.kind)}"
    if e.kind == "status" and e.new_status:
        line += f": {status_name(ctx.t, e.new_status)}"
    text = e.text
    if e.kind == "rerouted" and text in ctx.municipality.services:
        text = ctx.t.name(ctx.municipality.services[text].name)
    if text:
        line += f"\n  {text}"
    if e.photo:
        line += "\n  📷"
    return line

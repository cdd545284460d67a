"""My reports: the resident's reports, newest first, and one report's details and history."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.context import Context, Step, column
from handlers.events import ButtonChoice, Reply
from handlers.menu import MENU_STATE, menu_reply
from handlers.report import location_text
from handlers.texts import category_name, event_name, status_name
from storage import reports

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
    if not event.data.startswith("rep:") or not raw.isdigit():
        return None
    report = await reports.get_report(ctx.conn, int(raw))
    if report is None or report.user_id != ctx.user.id:
        return Step(MINE, {}, [Reply(_("That report was not found among yours."))])
    zone = ZoneInfo(ctx.municipality.timezone)
    history = "\n".join(
        f"{e.at.astimezone(zone).strftime('%d.%m.%Y %H:%M')} - {event_name(ctx.t, e.kind)}"
        + (f": {status_name(ctx.t, e.new_status)}" if e.kind == "status" and e.new_status else "")
        + (f"\n  {e.text}" if e.text else "")
        for e in report.events
    )
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
    back = column([(_("📋 My reports"), "menu:mine"), (_("↩️ Main menu"), "menu:main")])
    return Step(MINE, {}, [Reply(text, back)])

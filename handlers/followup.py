"""The resident's side of a report after it is sent: comments, answers, "is it fixed?"."""

from __future__ import annotations

from typing import Any

from handlers.context import Context, Step, parse_id
from handlers.events import ButtonChoice, Inbound, Photo, Reply, Text
from handlers.i18n import translator
from handlers.menu import MENU_STATE, menu_reply
from handlers.notices import to_service
from handlers.staff import card_update
from handlers.texts import status_name
from storage import reports
from storage.reports import Report

COMMENT_STATE = "comment:"
ANSWER_STATE = "answer:"
MAX_COMMENT = 2000


async def own_report(ctx: Context, raw_id: str) -> Report | None:
    """One of the user's own reports, or None (a made-up or someone else's id)."""
    report_id = parse_id(raw_id)
    if report_id is None:
        return None
    report = await reports.get_report(ctx.conn, report_id)
    return report if report is not None and report.user_id == ctx.user.id else None


def resume(ctx: Context, before: list[Reply], prompt: Any) -> Step:
    """Go back to where the resident was before the question or comment."""
    saved = ctx.draft.get("_resume") or {"state": MENU_STATE, "draft": {}}
    ctx.state, ctx.draft = saved["state"], saved["draft"]
    return Step(ctx.state, ctx.draft, [*before, *prompt(ctx)])


async def answer_fix(ctx: Context, event: ButtonChoice, prompt: Any) -> Step:
    """Yes closes the report; No reopens it and alerts the service."""
    _ = ctx.t.gettext
    _kind, answer, raw_id = [*event.data.split(":"), "", ""][:3]
    report = await own_report(ctx, raw_id)
    if report is None or answer not in ("yes", "no"):
        return Step(
            ctx.state, ctx.draft, [Reply(_("That button is no longer valid.")), *prompt(ctx)]
        )
    if report.status != "resolved":
        status = status_name(ctx.t, report.status)
        text = _("Thank you. The report {ref} is already {status}.", ref=report.ref, status=status)
        return Step(ctx.state, ctx.draft, [Reply(text), *prompt(ctx)])
    new = "closed" if answer == "yes" else "reopened"
    service = ctx.municipality.services.get(report.service)
    await reports.transition(
        ctx.conn, report.id, "resolved", new, actor_id=ctx.user.id, now=ctx.now,
        sla_hours=service.sla_hours if service else None,
    )  # fmt: skip
    updated = await reports.get_report(ctx.conn, report.id)
    assert updated is not None  # noqa: S101 - it was just changed
    step = Step(ctx.state, ctx.draft, [Reply(_fix_thanks(ctx, report, answer)), *prompt(ctx)])
    step.outgoing = await card_update(ctx, updated)
    if answer == "no":
        staff_t = translator(ctx.municipality.staff_language)
        alert = Reply(
            staff_t.gettext(
                "⚠️ The resident says {ref} is not fixed; it is reopened.", ref=report.ref
            )
        )
        step.outgoing += to_service(ctx.municipality, report.service, alert)
    return step


def _fix_thanks(ctx: Context, report: Report, answer: str) -> str:
    if answer == "yes":
        return ctx.t.gettext("Thank you! The report {ref} is closed.", ref=report.ref)
    return ctx.t.gettext(
        "We are sorry. The report {ref} is reopened and the service is told.", ref=report.ref
    )


async def start_comment(ctx: Context, event: ButtonChoice) -> Step | None:
    """Ask for a comment or a photo to add to an open report."""
    report = await own_report(ctx, event.data.removeprefix("cm:"))
    if report is None or not report.is_open:
        return None
    draft = {"_resume": {"state": MENU_STATE, "draft": {}}}
    text = ctx.t.gettext(
        "Write your comment on {ref}, or send a photo. (/cancel to stop)", ref=report.ref
    )
    return Step(f"{COMMENT_STATE}{report.id}", draft, [Reply(text)])


async def add_comment(ctx: Context, event: Inbound) -> Step | None:
    """Add the resident's comment or photo to the report; the staff chat sees it."""
    _ = ctx.t.gettext
    report = await own_report(ctx, ctx.state.removeprefix(COMMENT_STATE))
    if report is None:
        return Step(MENU_STATE, {}, [menu_reply(ctx)])
    photo = _saved_photo(ctx, event)
    text = event.text.strip()[:MAX_COMMENT] if isinstance(event, Text) else None
    if photo is None and not text:
        return None
    await reports.add_event(
        ctx.conn, report.id, "comment", actor_id=ctx.user.id, now=ctx.now, text=text, photo=photo
    )
    notice = Reply(_staff_notice(ctx, report, "💬", text), photos=(photo,) if photo else ())
    step = Step(
        MENU_STATE, {}, [menu_reply(ctx, _("Your comment was added to {ref}.", ref=report.ref))]
    )
    step.outgoing = to_service(ctx.municipality, report.service, notice)
    return step


def _saved_photo(ctx: Context, event: Inbound) -> str | None:
    if isinstance(event, Photo) and ctx.lookup and ctx.lookup.outcome == "saved":
        return str(ctx.lookup.data["path"])
    return None


def _staff_notice(ctx: Context, report: Report, mark: str, text: str | None) -> str:
    t = translator(ctx.municipality.staff_language)
    return (
        mark
        + " "
        + t.gettext("From the resident about {ref}:", ref=report.ref)
        + (f"\n{text}" if text else "")
    )


async def answer_question(ctx: Context, event: Text, prompt: Any) -> Step:
    """The resident's answer to a question from the municipality, threaded into the report."""
    _ = ctx.t.gettext
    report = await own_report(ctx, ctx.state.removeprefix(ANSWER_STATE))
    if report is None:
        return resume(ctx, [], prompt)
    text = event.text.strip()[:MAX_COMMENT]
    await reports.add_event(
        ctx.conn, report.id, "answer", actor_id=ctx.user.id, now=ctx.now, text=text
    )
    notice = Reply(_staff_notice(ctx, report, "↩️", text))
    step = resume(
        ctx, [Reply(_("Thank you, your answer was added to {ref}.", ref=report.ref))], prompt
    )
    step.outgoing = to_service(ctx.municipality, report.service, notice)
    return step

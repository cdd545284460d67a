"""The resident's side of a report after it is sent: comments, answers, "is it fixed?"."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers import engine, jobs
from handlers.context import Context, Lookup, Step
from handlers.events import Inbound, Photo, Reply, Text, Voice
from handlers.flow import Anywhere, ButtonData, Flow, Job, Typed
from handlers.i18n import translator
from handlers.menu import MenuState, menu_reply
from handlers.notices import card_update, to_service
from handlers.photos import MAX_PHOTOS, save_photo, unusable_photo
from handlers.texts import N_, status_name
from handlers.voice import refusal, save_voice, saved_voice, voice_line
from storage import privacy, reports
from storage.reports import Report

MAX_COMMENT = 2000


class FollowupState(StrEnum):
    """A resident's one-off answer: to a question from the municipality, or a comment."""

    ANSWER = "followup:answer"
    COMMENT = "followup:comment"
    # A comment sent as an album: its later photos join it; anything else is as in the menu.
    ALBUM = "followup:album"


@dataclass(frozen=True, slots=True)
class FixAnswer(ButtonData):
    """The resident's answer to "is it fixed?": ``yes`` or ``no``."""

    prefix = "fix"
    answer: str
    report_id: int


@dataclass(frozen=True, slots=True)
class CommentOn(ButtonData):
    """Add a comment or a photo to one of the resident's open reports."""

    prefix = "cm"
    report_id: int


async def own_report(ctx: Context, report_id: object) -> Report | None:
    """One of the user's own reports, or None (a made-up or someone else's id)."""
    if not isinstance(report_id, int):
        return None
    report = await reports.get_report(ctx.conn, report_id)
    return report if report is not None and report.user_id == ctx.user.id else None


async def answer_fix(ctx: Context, press: FixAnswer) -> Step:
    """Yes closes the report; No reopens it and alerts the service."""
    _ = ctx.t.gettext
    answer = press.answer
    report = await own_report(ctx, press.report_id)
    if report is None or answer not in ("yes", "no"):
        return engine.stay(ctx, [Reply(_("That button is no longer valid.")), *engine.prompt(ctx)])
    if report.status != "resolved":
        status = status_name(ctx.t, report.status)
        text = _("Thank you. The report {ref} is already {status}.", ref=report.ref, status=status)
        return engine.stay(ctx, [Reply(text), *engine.prompt(ctx)])
    new = "closed" if answer == "yes" else "reopened"
    service = ctx.municipality.services.get(report.service)
    await reports.transition(
        ctx.conn, report.id, "resolved", new, actor_id=ctx.user.id, now=ctx.now,
        sla_hours=service.sla_hours if service else None,
    )  # fmt: skip
    updated = await reports.get_report(ctx.conn, report.id)
    assert updated is not None  # noqa: S101 - it was just changed
    step = engine.stay(ctx, [Reply(_fix_thanks(ctx, report, answer)), *engine.prompt(ctx)])
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


async def start_comment(ctx: Context, press: CommentOn) -> Step | None:
    """Ask for a comment or a photo to add to an open report (then back to the menu)."""
    report = await own_report(ctx, press.report_id)
    if report is None or not report.is_open:
        return None
    text = ctx.t.gettext(
        "Write your comment on {ref}, or send a photo. (/cancel to stop)", ref=report.ref
    )
    ctx.state, ctx.draft = MenuState.MAIN, {}
    return engine.interrupt(ctx, FollowupState.COMMENT, [Reply(text)], report_id=report.id)


async def add_comment(ctx: Context, event: Inbound) -> Step | None:
    """Add the resident's comment or photo to the report; the staff chat sees it."""
    _ = ctx.t.gettext
    report = await own_report(ctx, ctx.draft.get("report_id"))
    if report is None:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx)])
    photo = _saved_photo(ctx, event)
    voice = saved_voice(ctx) if isinstance(event, Voice) else None
    if isinstance(event, Voice) and voice is None:
        return engine.stay(ctx, [Reply(refusal(ctx))])
    text = _words(event)
    if photo is None and voice is None and not text:
        return None
    await reports.add_event(
        ctx.conn, report.id, "comment", actor_id=ctx.user.id, now=ctx.now, text=text, photo=photo,
        voice=voice,
    )  # fmt: skip
    notice = Reply(
        _staff_notice(ctx, report, "💬", text, voice=voice is not None),
        photos=(photo,) if photo else (), voice=voice or "",
    )  # fmt: skip
    step = Step(
        MenuState.MAIN,
        {},
        [menu_reply(ctx, _("Your comment was added to {ref}.", ref=report.ref))],
    )
    if photo is not None and isinstance(event, Photo) and event.album:
        album = {"report_id": report.id, "album": event.album, "photos": 1}
        step = Step(FollowupState.ALBUM, album, step.replies)
    step.outgoing = to_service(ctx.municipality, report.service, notice)
    return step


def _words(event: Inbound) -> str | None:
    """The text of a comment: typed, or the caption of its photo."""
    if isinstance(event, Text):
        return event.text.strip()[:MAX_COMMENT]
    if isinstance(event, Photo):
        return event.caption.strip()[:MAX_COMMENT] or None
    return None


async def add_album_photo(ctx: Context, event: Photo) -> Step:
    """Add a later photo of the album that a comment came in (up to a report's photo limit).

    Another photo, or one of another album, is taken as in the main menu (a new report).
    """
    report = await own_report(ctx, ctx.draft.get("report_id"))
    if report is None or event.album != ctx.draft.get("album"):
        ctx.state, ctx.draft = ctx.registry.home, {}
        return await engine.begin(ctx, event) or engine.explain(ctx)
    photo = _saved_photo(ctx, event)
    count = int(ctx.draft.get("photos", 1))
    if photo is None or count >= MAX_PHOTOS:
        refused = ctx.t.gettext(
            "A comment has at most {max} photos; this one was not added.", max=MAX_PHOTOS
        )
        why = refused if photo else unusable_photo(ctx.t, ctx.lookup or Lookup("invalid"))
        if photo is not None:  # saved before the step knew it was one too many
            await privacy.discard_unused_photos(ctx.conn, [photo])
        return engine.stay(ctx, [Reply(why)])
    await reports.add_event(
        ctx.conn, report.id, "comment", actor_id=ctx.user.id, now=ctx.now, photo=photo
    )
    step = Step(FollowupState.ALBUM, {**ctx.draft, "photos": count + 1}, [])
    notice = Reply(_staff_notice(ctx, report, "💬", None), photos=(photo,))
    step.outgoing = to_service(ctx.municipality, report.service, notice)
    return step


def _saved_photo(ctx: Context, event: Inbound) -> str | None:
    if isinstance(event, Photo) and ctx.lookup and ctx.lookup.outcome == "saved":
        return str(ctx.lookup.data["path"])
    return None


def _staff_notice(
    ctx: Context, report: Report, mark: str, text: str | None, *, voice: bool = False
) -> str:
    t = translator(ctx.municipality.staff_language)
    return (
        mark
        + " "
        + t.gettext("From the resident about {ref}:", ref=report.ref)
        + (f"\n{text}" if text else "")
        + (f"\n{voice_line(t)}" if voice else "")
    )


async def answer_question(ctx: Context, event: Text | Voice) -> Step:
    """The resident's answer (typed or spoken) to a question from the municipality, threaded
    into the report."""
    _ = ctx.t.gettext
    report = await own_report(ctx, ctx.draft.get("report_id"))
    if report is None:
        return engine.resume(ctx, [])
    voice = saved_voice(ctx) if isinstance(event, Voice) else None
    if isinstance(event, Voice) and voice is None:
        return engine.stay(ctx, [Reply(refusal(ctx))])
    text = event.text.strip()[:MAX_COMMENT] if isinstance(event, Text) else None
    await reports.add_event(
        ctx.conn, report.id, "answer", actor_id=ctx.user.id, now=ctx.now, text=text, voice=voice
    )
    notice = Reply(
        _staff_notice(ctx, report, "↩️", text, voice=voice is not None), voice=voice or ""
    )
    step = engine.resume(
        ctx, [Reply(_("Thank you, your answer was added to {ref}.", ref=report.ref))]
    )
    step.outgoing = to_service(ctx.municipality, report.service, notice)
    return step


FLOW = Flow(
    name="followup",
    states=FollowupState,
    steps={
        (FollowupState.ANSWER, Text): answer_question,
        (FollowupState.COMMENT, Text): add_comment,
        (FollowupState.COMMENT, Photo): add_comment,
        (FollowupState.COMMENT, Voice): add_comment,
        (FollowupState.ANSWER, Voice): answer_question,
        (FollowupState.ALBUM, Photo): add_album_photo,
    },
    hints={
        FollowupState.ANSWER: N_("Please write your answer as a text message, or /cancel."),
        FollowupState.COMMENT: N_("Please write your comment or send a photo, or /cancel."),
    },
    anywhere={FixAnswer: Anywhere(answer_fix, leaves=False)},
    look_ups={
        (FollowupState.COMMENT, Photo): save_photo,
        (FollowupState.ALBUM, Photo): save_photo,
        (FollowupState.COMMENT, Voice): save_voice,
        (FollowupState.ANSWER, Voice): save_voice,
    },
    jobs=(Job("close-unconfirmed", jobs.close_unconfirmed, seconds=3600),),
    typed={FollowupState.ANSWER: Typed(), FollowupState.COMMENT: Typed()},
    keeps=frozenset(FollowupState),
)

"""What staff do to a report: change its status, answer, ask, re-route; and the card's buttons."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from handlers import engine, lifecycle
from handlers.context import Context, Step, buttons
from handlers.events import Choices, ForceReply, Inbound, Outgoing, Photo, Reply, Text, Voice
from handlers.followup import FixAnswer, FollowupState
from handlers.i18n import Translator, translator
from handlers.notices import card_update, to_residents
from handlers.staff.card import (
    REJECT_REASONS,
    CardAction,
    PromptChoice,
    RejectReason,
    card_buttons,
    prompt_choices,
    reject_reasons,
)
from handlers.texts import category_name, status_name
from handlers.voice import refusal, saved_voice, voice_line
from storage import message_refs, opendata, reports, users
from storage.reports import Report

log = logging.getLogger(__name__)


class StaffState(StrEnum):
    """A one-off question to a staff member: the text of an answer, or the photo of a fix."""

    REPLY = "staff:reply"
    FIX_PHOTO = "staff:fixphoto"


class StaffError(Exception):
    """A staff command cannot be done; the message (translated) says why."""


class OutOfScopeError(StaffError):
    """The report belongs to a service this staff member does not act for."""


def keep(ctx: Context, replies: list[Reply], outgoing: list[Outgoing] | None = None) -> Step:
    """Answer without moving the staff member's own conversation."""
    return Step(ctx.state, ctx.draft, replies, list(outgoing or []))


async def in_scope(ctx: Context, ref: str) -> Report:
    """The report named ``ref`` if this staff member may act on it."""
    _ = ctx.t.gettext
    if not ref:
        raise StaffError(_("Please give the report's number, such as {ref}.", ref=example(ctx)))
    report = await reports.find_by_ref(ctx.conn, ref)
    if report is None or not await may_see(ctx, report):
        # One answer and one log line for both: a report hidden from this staff member (not
        # public, of another service) must not show that it exists.
        log.info("user %s named no report they may see", ctx.user.id)
        raise StaffError(_("There is no report {ref}.", ref=ref.upper()[:40]))
    return check_scope(ctx, report)


async def may_see(ctx: Context, report: Report) -> bool:
    """Whether this staff member may know of ``report``: one of their services' reports, or one
    the public sees anyway (whose it is, the site and the Open311 API say too)."""
    return ctx.user.may_act_for(report.service) or await opendata.is_public(ctx.conn, report.id)


def check_scope(ctx: Context, report: Report) -> Report:
    """``report``, if this staff member's services include its service."""
    _ = ctx.t.gettext
    if not ctx.user.may_act_for(report.service):
        log.warning("user %s was refused report %s of another service", ctx.user.id, report.id)
        service = ctx.t.name(ctx.municipality.service_name(report.service))
        raise OutOfScopeError(
            _("{ref} belongs to {service}; it is not yours.", ref=report.ref, service=service)
        )
    return report


def example(ctx: Context) -> str:
    """A reference to show in help texts."""
    return f"{ctx.municipality.code}-{ctx.now.year}-00001"


def split_ref(args: str) -> tuple[str, str]:
    """Split "REF rest of the text"."""
    ref, _, rest = args.partition(" ")
    return ref, rest.strip()


def template_or_text(ctx: Context, text: str) -> str:
    """Expand a "#id" template from the municipality file; other text is used as written."""
    if text.startswith("#"):
        template = ctx.municipality.templates.get(text[1:].strip())
        if template is None:
            raise StaffError(
                ctx.t.gettext("There is no template {name}. See /templates.", name=text[:40])
            )
        return template
    return text


# A reason written by staff (used as written), or one of ours (said in each reader's language).
Reason = str | Callable[[Translator], str]


def say(reason: Reason | None, t: Translator) -> str | None:
    """A reason in ``t``'s language (staff's own words are never translated)."""
    return reason(t) if callable(reason) else reason


async def change_status(
    ctx: Context, report: Report, new: str, note: str | None = None, *, reason: Reason | None = None
) -> Step:
    """Move a report to ``new`` (if the lifecycle allows), tell the resident, update the card."""
    _ = ctx.t.gettext
    if not lifecycle.allowed(report.status, new):
        raise StaffError(
            _("{ref} is {status}; it cannot become {new}.", ref=report.ref,
              status=status_name(ctx.t, report.status), new=status_name(ctx.t, new))
        )  # fmt: skip
    text = say(reason, translator(ctx.municipality.staff_language)) or note
    service = ctx.municipality.services.get(report.service)
    sla = service.sla_hours if service else None
    if not await reports.transition(
        ctx.conn,
        report.id,
        report.status,
        new,
        actor_id=ctx.user.id,
        now=ctx.now,
        text=text,
        sla_hours=sla,
    ):
        current = await reports.get_report(ctx.conn, report.id)
        status = status_name(ctx.t, current.status if current else report.status)
        raise StaffError(
            _("{ref} was changed meanwhile; it is {status}.", ref=report.ref, status=status)
        )
    updated = changed(ctx, report, new, sla)
    outgoing = await card_update(ctx, updated)
    outgoing += await to_residents(
        ctx,
        updated,
        lambda t: status_notice(t, updated, new, note, reason),
        lambda t: status_notice(t, updated, new, note, reason, ask_fixed=False),
    )
    done = _("{ref} is now {status}.", ref=report.ref, status=status_name(ctx.t, new))
    return keep(ctx, [with_card_buttons(ctx, done, updated)], outgoing)


def in_private(ctx: Context) -> bool:
    """Whether the event came from the staff member's own chat (not a staff chat)."""
    return ctx.in_private


def with_card_buttons(ctx: Context, text: str, report: Report) -> Reply:
    """``text``, in a private chat with the card's buttons for the report as it is now.

    A staff chat's card is edited in place; a private chat's (/show) is not, and on Viber a message
    without buttons hides the card's: the operator would have no button for the next action.
    """
    if not in_private(ctx):
        return Reply(text)
    return Reply(text, Choices(card_buttons(ctx.t, report)))


def changed(ctx: Context, report: Report, new: str, sla_hours: int | None) -> Report:
    """The report as ``reports.transition`` left it (read once, not again after the change)."""
    now = ctx.now
    updated = replace(report, status=new)
    if new == "resolved":
        updated = replace(updated, resolved_at=now)
    if new == "reopened" and sla_hours is not None:
        updated = replace(updated, sla_due_at=now + timedelta(hours=sla_hours))
    return updated


def status_notice(
    t: Translator,
    report: Report,
    new: str,
    note: str | None,
    reason: Reason | None,
    *,
    ask_fixed: bool = True,
) -> list[Reply]:
    """What the resident is told of a status change (only its reporter is asked "is it fixed?")."""
    _ = t.gettext
    if new == "rejected":
        text = _(
            "Your report {ref} was rejected: {reason}", ref=report.ref, reason=say(reason, t) or ""
        )
    else:
        text = _(
            "Your report {ref} ({category}) is now: {status}.", ref=report.ref,
            category=category_name(t, report.category), status=status_name(t, new),
        )  # fmt: skip
    if note:
        text += "\n" + _("Note from the municipality: {note}", note=note)
    replies = [Reply(text)]
    if new == "resolved" and ask_fixed:
        question = _("Is the problem fixed? Please tell us.")
        replies.append(
            Reply(
                question,
                buttons(
                    [
                        FixAnswer("yes", report.id).button(_("👍 Yes, it is fixed")),
                        FixAnswer("no", report.id).button(_("👎 No")),
                    ]
                ),
            )
        )
    return replies


def answer_prompt(ctx: Context, state: StaffState, report: Report) -> Step:
    """Ask the staff member for an answer (in a group: a reply to this very message).

    The prompt is remembered under a key once sent, so that only a reply to it is taken; the
    question expires after ``staff_answer_minutes`` (said in the chat by the expiry job).
    """
    key = f"ask:{ctx.user.id}"
    ctx.state, ctx.draft = engine.interrupted(
        ctx.state, ctx.draft, state, report_id=report.id, ref=report.ref, prompt=key,
        asked_at=ctx.now.isoformat(), chat=ctx.chat_id,
    )  # fmt: skip
    return Step(ctx.state, ctx.draft, question(ctx))


# The buttons under each question in a private chat (a staff chat forces a reply instead).
QUESTION_CHOICES: dict[str, tuple[str, ...]] = {
    StaffState.FIX_PHOTO: ("skip", "cancel"),
    StaffState.REPLY: ("cancel",),
}


def question(ctx: Context) -> list[Reply]:
    """The question of the staff member's state, under the key a reply to it is matched by.

    In a staff chat a reply is forced (only a reply to it counts); in a private chat it has its
    buttons, as on Viber a message without them hides the card's.
    """
    _ = ctx.t.gettext
    report_id, ref = ctx.draft.get("report_id"), str(ctx.draft.get("ref", ""))
    if not isinstance(report_id, int):
        return []
    if ctx.state == StaffState.FIX_PHOTO:
        text = _("You may send a photo of the fix now; the resident will get it. (/cancel to skip)")
    else:
        text = _("Write the answer to {ref}; the resident will get it. (/cancel to stop)", ref=ref)
    key = str(ctx.draft.get("prompt", ""))
    choices = QUESTION_CHOICES.get(ctx.state, ())
    if not in_private(ctx) or not choices:
        return [Reply(text, ForceReply(), key=key)]
    return [Reply(text, prompt_choices(ctx.t, report_id, choices), key=key)]


def offer_fix_photo(ctx: Context, report: Report, resolved: Step) -> Step:
    """After a report is resolved, a photo of the fix may follow (in a group, as an answer)."""
    asked = answer_prompt(ctx, StaffState.FIX_PHOTO, report)
    resolved.replies += asked.replies
    resolved.state, resolved.draft = asked.state, asked.draft
    return resolved


async def end_question(ctx: Context, press: PromptChoice) -> Step | None:
    """Go on without the photo of the fix, or drop the question: the card's buttons come back."""
    offered = QUESTION_CHOICES.get(ctx.state, ())
    if press.choice not in offered or press.report_id != ctx.draft.get("report_id"):
        return None  # a button of another question: the hint
    report = await reports.get_report(ctx.conn, press.report_id)
    if report is None:
        return engine.resume(ctx, [], ask_again=False)
    _ = ctx.t.gettext
    if press.choice == "skip":
        text = _("{ref} is resolved without a photo of the fix.", ref=report.ref)
    else:
        text = _("Cancelled.")
    return engine.resume(ctx, [with_card_buttons(ctx, text, report)], ask_again=False)


async def awaited_report(ctx: Context, event: Text | Photo | Voice) -> Report | bool | None:
    """The report an awaited answer is about; False when the event is not that answer.

    In a staff chat only a reply to the bot's own question counts: an operator quoting another
    card to talk to a colleague is not answering the resident.
    """
    if event.sender.group:
        key = str(ctx.draft.get("prompt", ""))
        asked = await message_refs.find(ctx.conn, ctx.user.channel, event.sender.chat_id, key)
        if asked is None or event.reply_to != asked:
            return False
    report_id = ctx.draft.get("report_id")
    return await reports.get_report(ctx.conn, report_id) if isinstance(report_id, int) else None


def expired(ctx: Context) -> bool:
    """Whether the awaited answer has waited longer than the municipality allows."""
    raw = ctx.draft.get("asked_at")
    if not isinstance(raw, str):
        return True
    limit = timedelta(minutes=ctx.municipality.staff_answer_minutes)
    return datetime.fromisoformat(raw) + limit < ctx.now


def expiry_note(t: Translator) -> str:
    """What the chat is told when a question to a staff member expired."""
    return t.gettext("The question waited too long and has expired; press the button again.")


async def fix_photo(ctx: Context, event: Photo) -> Step | None:
    """The photo of the fix: into the report's history and to the resident."""
    _ = ctx.t.gettext
    report = await awaited_report(ctx, event)
    if report is False:
        return engine.stay(ctx)
    if expired(ctx):
        return engine.resume(ctx, [Reply(expiry_note(ctx.t))], ask_again=False)
    saved = ctx.lookup is not None and ctx.lookup.outcome == "saved"
    if not isinstance(report, Report) or not saved or ctx.lookup is None:
        text = _("That file is not a picture I can read. Please send a photo (JPEG or PNG).")
        return engine.stay(ctx, [Reply(text)])
    path = str(ctx.lookup.data["path"])
    await reports.add_event(
        ctx.conn, report.id, "fix_photo", actor_id=ctx.user.id, now=ctx.now, photo=path
    )

    def notice(t: Translator) -> list[Reply]:
        text = t.gettext("A photo of the fix of your report {ref}:", ref=report.ref)
        return [Reply(text, photos=(path,))]

    outgoing = await to_residents(ctx, report, notice)
    done = _("The photo was sent to the resident of {ref}.", ref=report.ref)
    step = engine.resume(ctx, [with_card_buttons(ctx, done, report)], ask_again=False)
    step.outgoing = outgoing
    return step


async def moved_on(ctx: Context, event: Inbound) -> Step | None:
    """Not a photo of the fix: the staff member has moved on; so does the conversation."""
    if event.sender.group:
        return engine.stay(ctx)
    engine.resume(ctx, [], ask_again=False)
    return await engine.by_state(ctx, type(event), event)


async def send_reply(ctx: Context, report: Report, text: str, voice: str | None = None) -> Step:
    """Record a public answer (typed, or a voice note) and send it to the resident."""
    await reports.add_event(
        ctx.conn, report.id, "reply", actor_id=ctx.user.id, now=ctx.now, text=text or None,
        voice=voice,
    )  # fmt: skip

    def answer(t: Translator) -> list[Reply]:
        said = text or voice_line(t)
        message = t.gettext(
            "The municipality answered about your report {ref}:\n{text}", ref=report.ref, text=said
        )
        return [Reply(message, voice=voice or "")]

    outgoing = await to_residents(ctx, report, answer)
    done = ctx.t.gettext("The answer was sent to the resident of {ref}.", ref=report.ref)
    return keep(ctx, [with_card_buttons(ctx, done, report)], outgoing)


async def await_answer(ctx: Context, report: Report) -> None:
    """Make the resident's next message the answer, keeping whatever they were doing."""
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    if resident is None:
        return
    state, draft = engine.interrupted(
        resident.state, resident.draft, FollowupState.ANSWER, report_id=report.id
    )
    await users.save_state(ctx.conn, report.user_id, state, draft, ctx.now)
    ctx.moved.append((resident.user.channel, resident.user.external_id))


async def _card_report(ctx: Context, report_id: int) -> Report | None:
    """The report a card button names (loaded once), if this staff member may act on it."""
    report = await reports.get_report(ctx.conn, report_id)
    if report is None or not await may_see(ctx, report):
        return None  # a made-up or stale id of a hidden report is answered as a missing one
    return check_scope(ctx, report)


async def press_card(ctx: Context, press: CardAction) -> Step | None:
    """A button of a report's card; a stale one gets the current status and changes nothing."""
    try:
        report = await _card_report(ctx, press.report_id)
        if report is None:
            return None
        return await act(ctx, report, press.action)
    except OutOfScopeError as e:
        return refused_press(ctx, str(e))
    except StaffError as e:
        return keep(ctx, [Reply(str(e))])


async def choose_reason(ctx: Context, press: RejectReason) -> Step | None:
    """One of the reasons offered after Reject."""
    if press.reason not in REJECT_REASONS:
        return None
    try:
        report = await _card_report(ctx, press.report_id)
        if report is None:
            return None
        reason = REJECT_REASONS[press.reason]
        return await change_status(ctx, report, "rejected", reason=lambda t: t.gettext(reason))
    except OutOfScopeError as e:
        return refused_press(ctx, str(e))
    except StaffError as e:
        return keep(ctx, [Reply(str(e))])


def refused_press(ctx: Context, text: str) -> Step:
    """A refused press is told to the one who pressed it only (on the button), not the chat."""
    step = keep(ctx, [])
    step.alert = text
    return step


async def act(ctx: Context, report: Report, action: str) -> Step | None:
    """Do what a card button says."""
    if action == "resolve":
        return offer_fix_photo(ctx, report, await change_status(ctx, report, "resolved"))
    target = lifecycle.CARD_ACTIONS.get(action)
    if action == "reject":
        if not lifecycle.allowed(report.status, "rejected"):
            return await change_status(ctx, report, "rejected")  # explains the current status
        return keep(ctx, [reject_reasons(ctx.t, report)])
    if target is not None:
        return await change_status(ctx, report, target)
    if action == "reply":
        return answer_prompt(ctx, StaffState.REPLY, report)
    return None


async def reply_from_state(ctx: Context, event: Text | Voice) -> Step | None:
    """The text a staff member wrote (or the voice note they recorded) after pressing Reply (in a
    group, as a reply to the prompt)."""
    report = await awaited_report(ctx, event)
    if report is False:
        return engine.stay(ctx)
    if expired(ctx):
        return engine.resume(ctx, [Reply(expiry_note(ctx.t))], ask_again=False)
    if not isinstance(report, Report):
        return engine.resume(ctx, [], ask_again=False)
    if isinstance(event, Voice):
        voice = saved_voice(ctx)
        if voice is None:
            return engine.stay(ctx, [Reply(refusal(ctx))])
        try:
            step = await send_reply(ctx, check_scope(ctx, report), "", voice)
        except StaffError as e:
            step = keep(ctx, [Reply(str(e))])
        resumed = engine.resume(ctx, step.replies, ask_again=False)
        resumed.outgoing = step.outgoing
        return resumed
    try:
        step = await send_reply(
            ctx, check_scope(ctx, report), template_or_text(ctx, event.text.strip())
        )
    except StaffError as e:
        step = keep(ctx, [Reply(str(e))])
    resumed = engine.resume(ctx, step.replies, ask_again=False)
    resumed.outgoing = step.outgoing
    return resumed

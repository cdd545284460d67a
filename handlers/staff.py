"""The staff command set and the buttons of the report card: operators work on reports."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from handlers import announce, consultations, lifecycle
from handlers.context import Context, Step, buttons, column, parse_id
from handlers.events import ButtonChoice, Command, Outgoing, Photo, Reply, Text
from handlers.i18n import Translator, translator
from handlers.notices import card, new_report_notices, to_resident, to_service
from handlers.texts import N_, category_name, event_name, status_name
from storage import reports, staff, users
from storage.reports import Report
from storage.staff import StaffEntry

log = logging.getLogger(__name__)

REPLY_STATE = "staff:reply:"
FIX_PHOTO_STATE = "staff:fixphoto:"
REJECT_REASONS = {
    "not_ours": N_("not the responsibility of the municipality"),
    "duplicate": N_("a duplicate of another report"),
    "info": N_("not enough information"),
}


class StaffError(Exception):
    """A staff command cannot be done; the message (translated) says why."""


def keep(ctx: Context, replies: list[Reply], outgoing: list[Outgoing] | None = None) -> Step:
    """Answer without moving the staff member's own conversation."""
    return Step(ctx.state, ctx.draft, replies, list(outgoing or []))


def refuse(ctx: Context, what: str, *, pressed: bool = False) -> Step:
    """Tell someone who is not allowed, change nothing, and log the attempt.

    A refused button press is answered to the presser only (``pressed``), not to the group.
    """
    log.warning("user %s (%s) was refused %s", ctx.user.id, ctx.user.role, what)
    text = ctx.t.gettext("This is for municipal staff only; nothing was changed.")
    if pressed:
        return Step(ctx.state, ctx.draft, [], alert=text)
    return keep(ctx, [Reply(text)])


class OutOfScopeError(StaffError):
    """The report belongs to a service this staff member does not act for."""


async def run(ctx: Context, event: Command) -> Step:
    """Run a staff command after checking the role."""
    command = COMMANDS[event.name]
    if not ctx.user.is_staff:
        return refuse(ctx, f"/{event.name}")
    try:
        return await command(ctx, event.args.strip())
    except StaffError as e:
        return keep(ctx, [Reply(str(e))])


async def in_scope(ctx: Context, ref: str) -> Report:
    """The report named ``ref`` if this staff member may act on it."""
    _ = ctx.t.gettext
    if not ref:
        raise StaffError(_("Please give the report's number, such as {ref}.", ref=example(ctx)))
    report = await reports.find_by_ref(ctx.conn, ref)
    if report is None:
        raise StaffError(_("There is no report {ref}.", ref=ref.upper()[:40]))
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
    updated = await reports.get_report(ctx.conn, report.id)
    assert updated is not None  # noqa: S101 - it was just changed
    outgoing = await card_update(ctx, updated)
    outgoing += await to_resident(
        ctx, updated, lambda t: status_notice(t, updated, new, note, reason)
    )
    done = Reply(_("{ref} is now {status}.", ref=report.ref, status=status_name(ctx.t, new)))
    return keep(ctx, [done], outgoing)


async def card_update(ctx: Context, report: Report) -> list[Outgoing]:
    """The edited card for the report's service chat."""
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    name = resident.user.first_name if resident else ""
    return list(
        to_service(
            ctx.municipality, report.service, card(ctx.municipality, report, name, edit=True)
        )
    )


def status_notice(
    t: Translator, report: Report, new: str, note: str | None, reason: Reason | None
) -> list[Reply]:
    """What the resident is told of a status change."""
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
    if new == "resolved":
        question = _("Is the problem fixed? Please tell us.")
        replies.append(
            Reply(
                question,
                buttons(
                    [
                        (_("👍 Yes, it is fixed"), f"fix:yes:{report.id}"),
                        (_("👎 No"), f"fix:no:{report.id}"),
                    ]
                ),
            )
        )
    return replies


async def ack(ctx: Context, args: str) -> Step:
    """/ack REF: the service has seen the report."""
    return await change_status(ctx, await in_scope(ctx, args.split(" ")[0]), "acknowledged")


async def progress(ctx: Context, args: str) -> Step:
    """/progress REF [note]: work has started."""
    ref, note = split_ref(args)
    return await change_status(ctx, await in_scope(ctx, ref), "in_progress", note or None)


async def resolve(ctx: Context, args: str) -> Step:
    """/resolve REF [note]: the problem is fixed; the resident is asked whether it is."""
    ref, note = split_ref(args)
    report = await in_scope(ctx, ref)
    return offer_fix_photo(ctx, report, await change_status(ctx, report, "resolved", note or None))


def offer_fix_photo(ctx: Context, report: Report, resolved: Step) -> Step:
    """After a report is resolved, a photo of the fix may follow (in a group, as an answer)."""
    text = ctx.t.gettext(
        "You may send a photo of the fix now; the resident will get it. (/cancel to skip)"
    )
    resolved.replies.append(Reply(text, keyboard="force_reply"))
    resolved.state = f"{FIX_PHOTO_STATE}{report.id}"
    resolved.draft = {"_resume": _resume_point(ctx)}
    return resolved


def _resume_point(ctx: Context) -> dict[str, object]:
    """Where to come back to after a one-off question (kept from an earlier one, if any)."""
    if ctx.state.startswith((REPLY_STATE, FIX_PHOTO_STATE)):
        return dict(ctx.draft.get("_resume") or {"state": "", "draft": {}})
    return {"state": ctx.state, "draft": ctx.draft}


async def fix_photo(ctx: Context, event: Photo) -> Step:
    """The photo of the fix: into the report's history and to the resident."""
    _ = ctx.t.gettext
    resume = ctx.draft.get("_resume") or {"state": "", "draft": {}}
    raw_id = ctx.state.removeprefix(FIX_PHOTO_STATE)
    report_id = parse_id(raw_id)
    report = await reports.get_report(ctx.conn, report_id) if report_id is not None else None
    saved = ctx.lookup is not None and ctx.lookup.outcome == "saved"
    if report is None or not saved or ctx.lookup is None:
        text = _("That file is not a picture I can read. Please send a photo (JPEG or PNG).")
        return Step(ctx.state, ctx.draft, [Reply(text)])
    path = str(ctx.lookup.data["path"])
    await reports.add_event(
        ctx.conn, report.id, "fix_photo", actor_id=ctx.user.id, now=ctx.now, photo=path
    )

    def notice(t: Translator) -> list[Reply]:
        text = t.gettext("A photo of the fix of your report {ref}:", ref=report.ref)
        return [Reply(text, photos=(path,))]

    outgoing = await to_resident(ctx, report, notice)
    done = Reply(_("The photo was sent to the resident of {ref}.", ref=report.ref))
    return Step(resume["state"], resume["draft"], [done], outgoing)


async def reject(ctx: Context, args: str) -> Step:
    """/reject REF REASON: the municipality will not act; the reason goes to the resident."""
    ref, reason = split_ref(args)
    report = await in_scope(ctx, ref)
    if not reason:
        raise StaffError(
            ctx.t.gettext("Please give a reason: /reject {ref} REASON", ref=report.ref)
        )
    return await change_status(ctx, report, "rejected", reason=template_or_text(ctx, reason))


async def duplicate(ctx: Context, args: str) -> Step:
    """/dup REF ORIGINAL: reject as a duplicate of another report."""
    ref, original_ref = split_ref(args)
    report = await in_scope(ctx, ref)
    original = await reports.find_by_ref(ctx.conn, original_ref) if original_ref else None
    if original is None or original.id == report.id:
        raise StaffError(
            ctx.t.gettext("Please give the original report: /dup {ref} ORIGINAL", ref=report.ref)
        )

    def duplicate_of(t: Translator) -> str:
        return t.gettext("a duplicate of {ref}", ref=original.ref)

    return await change_status(ctx, report, "rejected", reason=duplicate_of)


async def reopen(ctx: Context, args: str) -> Step:
    """/reopen REF: open a resolved, closed or rejected report again."""
    return await change_status(ctx, await in_scope(ctx, args.split(" ")[0]), "reopened")


async def reply(ctx: Context, args: str) -> Step:
    """/reply REF TEXT: a public answer that the resident gets."""
    ref, text = split_ref(args)
    report = await in_scope(ctx, ref)
    if not text:
        raise StaffError(
            ctx.t.gettext("Please write the answer: /reply {ref} TEXT", ref=report.ref)
        )
    return await send_reply(ctx, report, template_or_text(ctx, text))


async def send_reply(ctx: Context, report: Report, text: str) -> Step:
    """Record a public answer and send it to the resident."""
    await reports.add_event(
        ctx.conn, report.id, "reply", actor_id=ctx.user.id, now=ctx.now, text=text
    )
    outgoing = await to_resident(
        ctx,
        report,
        lambda t: [
            Reply(
                t.gettext(
                    "The municipality answered about your report {ref}:\n{text}",
                    ref=report.ref,
                    text=text,
                )
            )
        ],
    )
    return keep(
        ctx,
        [Reply(ctx.t.gettext("The answer was sent to the resident of {ref}.", ref=report.ref))],
        outgoing,
    )


async def note(ctx: Context, args: str) -> Step:
    """/note REF TEXT: an internal note, never shown to the resident."""
    ref, text = split_ref(args)
    report = await in_scope(ctx, ref)
    if not text:
        raise StaffError(ctx.t.gettext("Please write the note: /note {ref} TEXT", ref=report.ref))
    await reports.add_event(
        ctx.conn, report.id, "note", actor_id=ctx.user.id, now=ctx.now, text=text, public=False
    )
    return keep(ctx, [Reply(ctx.t.gettext("Internal note added to {ref}.", ref=report.ref))])


async def ask(ctx: Context, args: str) -> Step:
    """/ask REF QUESTION: the resident gets the question; their next message is the answer."""
    ref, question = split_ref(args)
    report = await in_scope(ctx, ref)
    if not question:
        raise StaffError(
            ctx.t.gettext("Please write the question: /ask {ref} QUESTION", ref=report.ref)
        )
    await reports.add_event(
        ctx.conn, report.id, "question", actor_id=ctx.user.id, now=ctx.now, text=question
    )
    await await_answer(ctx, report)
    outgoing = await to_resident(ctx, report, lambda t: [Reply(t.gettext(
        "The municipality asks about your report {ref}:\n{question}\n\nPlease write your answer"
        " in your next message.", ref=report.ref, question=question))])  # fmt: skip
    return keep(
        ctx,
        [Reply(ctx.t.gettext("The question was sent to the resident of {ref}.", ref=report.ref))],
        outgoing,
    )


async def await_answer(ctx: Context, report: Report) -> None:
    """Make the resident's next message the answer, keeping any report they are writing."""
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    if resident is None:
        return
    draft = resident.draft
    if not resident.state.startswith("answer:"):
        draft = {"_resume": {"state": resident.state, "draft": resident.draft}}
    await users.save_state(ctx.conn, report.user_id, f"answer:{report.id}", draft, ctx.now)


async def assign(ctx: Context, args: str) -> Step:
    """/assign REF SERVICE: re-route the report; the new service gets the card."""
    ref, service_id = split_ref(args)
    report = await in_scope(ctx, ref)
    m = ctx.municipality
    if service_id not in m.services:
        known = ", ".join(m.services)
        raise StaffError(
            ctx.t.gettext(
                "Unknown service {service}. Services: {known}", service=service_id[:40], known=known
            )
        )
    if service_id == report.service:
        raise StaffError(ctx.t.gettext("{ref} is already with that service.", ref=report.ref))
    await reports.reassign(ctx.conn, report.id, service_id, actor_id=ctx.user.id, now=ctx.now)
    moved = await reports.get_report(ctx.conn, report.id)
    assert moved is not None  # noqa: S101 - it was just changed
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    name = resident.user.first_name if resident else ""
    service_name = m.services[service_id].name
    note = Reply(
        ctx.t.gettext(
            "{ref} was passed to {service}.", ref=report.ref, service=ctx.t.name(service_name)
        )
    )
    outgoing: list[Outgoing] = [
        *to_service(m, report.service, note),
        *new_report_notices(m, moved, name),
    ]
    outgoing += await to_resident(ctx, moved, lambda t: [Reply(t.gettext(
        "Your report {ref} was passed to {service}, which is responsible for it.",
        ref=report.ref, service=t.name(service_name)))])  # fmt: skip
    return keep(ctx, [note], outgoing)


async def show(ctx: Context, args: str) -> Step:
    """/show REF: the report's card with its history."""
    report = await in_scope(ctx, args.split(" ")[0])
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    shown = card(ctx.municipality, report, resident.user.first_name if resident else "", edit=False)
    history = "\n".join(
        f"· {event_name(ctx.t, e.kind)}"
        + (f": {status_name(ctx.t, e.new_status)}" if e.kind == "status" and e.new_status else "")
        + (f" - {e.text}" if e.text else "")
        for e in report.events
    )
    return keep(ctx, [Reply(f"{shown.text}\n\n{history}", shown.buttons, photos=shown.photos)])


async def inbox(ctx: Context, args: str) -> Step:
    """/inbox [service]: open reports, oldest first, overdue ones marked."""
    _ = ctx.t.gettext
    wanted = args.split(" ")[0] if args else ""
    scope = None if ctx.user.role == "admin" else ctx.user.services
    if wanted:
        if wanted not in ctx.municipality.services or (scope is not None and wanted not in scope):
            raise StaffError(_("Unknown service {service}, or not yours.", service=wanted[:40]))
        scope = (wanted,)
    found = await reports.open_reports(ctx.conn, scope)
    if not found:
        return keep(ctx, [Reply(_("No open reports."))])
    lines = [
        f"{r.ref} · {category_name(ctx.t, r.category)} · {status_name(ctx.t, r.status)}"
        + (" ⚠️" if r.sla_due_at and r.sla_due_at < ctx.now else "")
        for r in found
    ]
    header = ctx.t.ngettext("{n} open report:", "{n} open reports:", len(found))
    return keep(ctx, [Reply(header + "\n" + "\n".join(lines))])


async def stats(ctx: Context, args: str) -> Step:
    """/stats [days]: per service, reports by status, median hours to act, overdue."""
    _ = ctx.t.gettext
    asked = parse_id(args)
    days = asked if asked is not None and 0 < asked <= 3660 else 30
    figures = await reports.stats(ctx.conn, ctx.now - timedelta(days=days), ctx.now)
    lines = [_("Reports of the last {days} days:", days=days)]
    for s in figures:
        name = ctx.t.name(ctx.municipality.service_name(s.service))
        counts = ", ".join(f"{status_name(ctx.t, k)} {v}" for k, v in sorted(s.by_status.items()))
        lines.append(_(
            "{service}: {counts}; median hours to acknowledge {ack}, to resolve {resolve};"
            " overdue {overdue}", service=name, counts=counts, ack=_hours(s.median_ack_hours),
            resolve=_hours(s.median_resolve_hours), overdue=s.overdue))  # fmt: skip
    if not figures:
        lines.append(_("No reports."))
    return keep(ctx, [Reply("\n".join(lines))])


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


async def templates(ctx: Context, args: str) -> Step:
    """/templates: the canned answers of the municipality file."""
    items = ctx.municipality.templates
    if not items:
        return keep(ctx, [Reply(ctx.t.gettext("There are no templates in the municipality file."))])
    text = "\n".join(f"#{tid} - {ctx.t.name(text)}" for tid, text in items.items())
    return keep(ctx, [Reply(text)])


async def staff_command(ctx: Context, args: str) -> Step:
    """/staff add|remove|list (admins only)."""
    _ = ctx.t.gettext
    if ctx.user.role != "admin":
        return refuse(ctx, "/staff")
    action, _sep, rest = args.partition(" ")
    parts = rest.split()
    usage = _(
        "Usage: /staff add telegram|viber USER_ID admin|operator [SERVICES],"
        " /staff remove telegram|viber USER_ID, /staff list"
    )
    if action == "list":
        return await list_staff(ctx)
    if action == "remove" and len(parts) == 2:
        removed = await staff.remove(ctx.conn, parts[0], parts[1])
        text = _("Removed.") if removed else _("No such staff member was added with /staff add.")
        return keep(ctx, [Reply(text)])
    if action == "add" and len(parts) in (3, 4):
        return await add_staff(ctx, parts)
    raise StaffError(usage)


async def add_staff(ctx: Context, parts: list[str]) -> Step:
    """Add an admin or an operator of some services."""
    _ = ctx.t.gettext
    channel, external_id, role = parts[0], parts[1], parts[2]
    services = tuple(s for s in (parts[3].split(",") if len(parts) == 4 else []) if s)
    unknown = [s for s in services if s not in ctx.municipality.services]
    if (
        channel not in ("telegram", "viber", ctx.user.channel)
        or role not in ("admin", "operator")
        or unknown
        or (role == "operator" and not services)
    ):
        raise StaffError(
            _(
                "Please check the messenger, the role and the services ({known}).",
                known=", ".join(ctx.municipality.services),
            )
        )
    await staff.add(
        ctx.conn, StaffEntry(channel, external_id, role, services), ctx.user.id, ctx.now
    )
    return keep(
        ctx, [Reply(_("Added {role} {channel}:{id}.", role=role, channel=channel, id=external_id))]
    )


async def list_staff(ctx: Context) -> Step:
    """The staff of the municipality file and those added with /staff add."""
    lines = [
        f"{m.messenger}:{m.user_id} {m.role} {','.join(m.services)} ({m.name})"
        for m in ctx.municipality.staff
    ]
    lines += [
        f"{e.channel}:{e.external_id} {e.role} {','.join(e.services)} (+)"
        for e in await staff.list_all(ctx.conn)
    ]
    return keep(ctx, [Reply("\n".join(lines))])


StaffCommand = Callable[[Context, str], Awaitable[Step]]


def admin_only(command: StaffCommand) -> StaffCommand:
    """A command for admins; an operator is refused like a resident."""

    async def guarded(ctx: Context, args: str) -> Step:
        if ctx.user.role != "admin":
            return refuse(ctx, command.__name__)
        return await command(ctx, args)

    return guarded


COMMANDS: dict[str, StaffCommand] = {
    "inbox": inbox, "show": show, "ack": ack, "progress": progress, "resolve": resolve,
    "reject": reject, "dup": duplicate, "reply": reply, "note": note, "ask": ask,
    "assign": assign, "reopen": reopen, "stats": stats, "templates": templates,
    "staff": staff_command, "consult": admin_only(consultations.consult_command),
    "announce": admin_only(announce.command), "answer": consultations.answer,
    "minutes": admin_only(consultations.minutes),
}  # fmt: skip


async def press(ctx: Context, event: ButtonChoice) -> Step | None:
    """A button of the report card (st:ACTION:ID) or of the reject reasons (rj:ID:REASON)."""
    if not ctx.user.is_staff:
        return refuse(ctx, f"button {event.data[:20]}", pressed=True)
    kind, _sep, rest = event.data.partition(":")
    first, _sep, second = rest.partition(":")
    action, raw_id = (first, second) if kind == "st" else ("reason", first)
    report_id = parse_id(raw_id)
    if report_id is None:
        return None
    report = await reports.get_report(ctx.conn, report_id)
    if report is None:
        return None
    try:
        scoped = await in_scope(ctx, report.ref)
        return await act(ctx, scoped, action, second)
    except OutOfScopeError as e:
        return Step(ctx.state, ctx.draft, [], alert=str(e))
    except StaffError as e:
        return keep(ctx, [Reply(str(e))])


async def act(ctx: Context, report: Report, action: str, reason: str) -> Step | None:
    """Do what a card button says; a stale button gets the current status and changes nothing."""
    _ = ctx.t.gettext
    targets = {"ack": "acknowledged", "progress": "in_progress", "resolve": "resolved"}
    if action == "resolve":
        return offer_fix_photo(ctx, report, await change_status(ctx, report, "resolved"))
    if action in targets:
        return await change_status(ctx, report, targets[action])
    if action == "reject":
        if report.status not in lifecycle.TRANSITIONS or not lifecycle.allowed(
            report.status, "rejected"
        ):
            return await change_status(ctx, report, "rejected")  # explains the current status
        pairs = [
            (ctx.t.gettext(text), f"rj:{report.id}:{key}") for key, text in REJECT_REASONS.items()
        ]
        return keep(ctx, [Reply(_("Why is {ref} rejected?", ref=report.ref), column(pairs))])
    if action == "reason" and reason in REJECT_REASONS:
        return await change_status(
            ctx, report, "rejected", reason=lambda t: t.gettext(REJECT_REASONS[reason])
        )
    if action == "reply":
        return ask_for_reply(ctx, report)
    return None


def ask_for_reply(ctx: Context, report: Report) -> Step:
    """Ask the staff member for the reply text (in a group, as an answer to this message)."""
    draft = {"_resume": _resume_point(ctx)}
    text = ctx.t.gettext(
        "Write the answer to {ref}; the resident will get it. (/cancel to stop)", ref=report.ref
    )
    return Step(f"{REPLY_STATE}{report.id}", draft, [Reply(text, keyboard="force_reply")])


async def reply_from_state(ctx: Context, event: Text) -> Step:
    """The text a staff member wrote after pressing Reply."""
    raw_id = ctx.state.removeprefix(REPLY_STATE)
    resume = ctx.draft.get("_resume", {})
    report_id = parse_id(raw_id)
    report = await reports.get_report(ctx.conn, report_id) if report_id is not None else None
    if report is None:
        return Step(resume.get("state", ""), resume.get("draft", {}), [])
    try:
        scoped = await in_scope(ctx, report.ref)
        step = await send_reply(ctx, scoped, template_or_text(ctx, event.text.strip()))
    except StaffError as e:
        step = keep(ctx, [Reply(str(e))])
    return Step(resume.get("state", ""), resume.get("draft", {}), step.replies, step.outgoing)

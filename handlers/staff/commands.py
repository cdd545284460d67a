"""The staff commands, their arguments, and the staff flow's declaration."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from handlers import jobs
from handlers.api_reporter import ask_api_reporter
from handlers.context import Context, Step, parse_id
from handlers.events import MAX_CHART_BARS, Chart, Outgoing, Photo, Reply, Text, Voice
from handlers.flow import Anywhere, CommandSpec, Flow, Job, Role
from handlers.i18n import Translator, translator
from handlers.notices import (
    card,
    card_update,
    new_report_notices,
    to_resident,
    to_residents,
    to_service,
    to_users,
)
from handlers.photos import save_photo
from handlers.staff.card import CardAction, PromptChoice, RejectReason
from handlers.staff.expiry import expire_questions
from handlers.staff.menus import menu_of
from handlers.staff.operations import (
    StaffError,
    StaffState,
    await_answer,
    change_status,
    choose_reason,
    end_question,
    fix_photo,
    in_scope,
    keep,
    may_see,
    moved_on,
    offer_fix_photo,
    press_card,
    question,
    reply_from_state,
    send_reply,
    split_ref,
    template_or_text,
)
from handlers.texts import N_, category_name, event_name, status_name
from handlers.voice import save_voice
from storage import duplicates, opendata, reports, staff, users
from storage.staff import StaffEntry


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
    """/dup REF ORIGINAL: reject as a duplicate; its resident and followers follow the original."""
    ref, original_ref = split_ref(args)
    report = await in_scope(ctx, ref)
    original = await reports.find_by_ref(ctx.conn, original_ref) if original_ref else None
    # An original this operator may not see is answered as a missing one (it must not show
    # that it exists).
    if original is None or original.id == report.id or not await may_see(ctx, original):
        raise StaffError(
            ctx.t.gettext("Please give the original report: /dup {ref} ORIGINAL", ref=report.ref)
        )
    if not await opendata.is_public(ctx.conn, original.id):
        # Its followers would read it under My reports: a private report has none but its own.
        raise StaffError(ctx.t.gettext(
            "{original} is not public, so the residents of {ref} cannot follow it. Close {ref}"
            " with /reject {ref} and a reason instead.", original=original.ref, ref=report.ref,
        ))  # fmt: skip

    def duplicate_of(t: Translator) -> str:
        return t.gettext("a duplicate of {ref}", ref=original.ref)

    step = await change_status(ctx, report, "rejected", reason=duplicate_of)
    moved = await duplicates.move(ctx.conn, report.id, original.id, ctx.now)
    step.outgoing += await to_users(ctx, moved, lambda t: [Reply(t.gettext(
        "The problem of {ref} is already reported as {original}: from now on you get the news of"
        " {original}, and you find it under My reports.", ref=report.ref, original=original.ref,
    ))])  # fmt: skip
    followed = await reports.get_report(ctx.conn, original.id)
    assert followed is not None  # noqa: S101 - found above, in this transaction
    step.outgoing += await card_update(ctx, followed)
    step.replies.append(Reply(ctx.t.ngettext(
        "{n} resident now follows {original}.", "{n} residents now follow {original}.",
        len(moved), original=original.ref,
    )))  # fmt: skip
    return step


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
    by_mail = await ask_api_reporter(ctx, report, question)  # filed through the API: no chat
    if by_mail is not None:
        return by_mail
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

    def passed(t: Translator) -> Reply:
        return Reply(t.gettext("{ref} was passed to {service}.", ref=report.ref,
                               service=t.name(service_name)))  # fmt: skip

    # The old service's chat reads it in the staff's language, whatever the actor's chat is.
    note = passed(ctx.t)
    outgoing: list[Outgoing] = [
        *to_service(m, report.service, passed(translator(m.staff_language, m.timezone))),
        *new_report_notices(m, moved, name),
    ]
    outgoing += await to_residents(ctx, moved, lambda t: [Reply(t.gettext(
        "Your report {ref} was passed to {service}, which is responsible for it.",
        ref=report.ref, service=t.name(service_name)))])  # fmt: skip
    return keep(ctx, [note], outgoing)


async def show(ctx: Context, args: str) -> Step:
    """/show REF: the report's card with its history."""
    report = await in_scope(ctx, args.split(" ")[0])
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    t = ctx.t  # the chat's: the person's own in private, the staff's in a staff chat
    name = resident.user.first_name if resident else ""
    shown = card(ctx.municipality, report, name, edit=False, t=t)
    history = "\n".join(
        f"· {event_name(t, e.kind)}"
        + (f": {status_name(t, e.new_status)}" if e.kind == "status" and e.new_status else "")
        + (f" - {e.text}" if e.text else "")
        for e in report.events
    )
    return keep(ctx, [Reply(f"{shown.text}\n\n{history}", shown.markup, photos=shown.photos)])


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
    return keep(ctx, [Reply("\n".join(lines), chart=_stats_chart(ctx, days, figures))])


def _stats_chart(ctx: Context, days: int, figures: list[reports.ServiceStats]) -> Chart | None:
    """The reports of the period per service, overdue ones as the darker bar in front."""
    shown = figures[:MAX_CHART_BARS]
    if not shown:
        return None
    _ = ctx.t.gettext
    totals = [sum(s.by_status.values()) for s in shown]
    return Chart(
        title=_("Reports of the last {days} days by service", days=days),
        labels=tuple(ctx.t.name(ctx.municipality.service_name(s.service)) for s in shown),
        values=tuple(float(s.overdue) for s in shown),
        reference=tuple(float(n) for n in totals),
        legend=(_("overdue"), _("all reports")),
        value_labels=tuple(f"{s.overdue} / {n}" for s, n in zip(shown, totals, strict=True)),
    )


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
    action, _sep, rest = args.partition(" ")
    parts = rest.split()
    usage = _(
        "Usage: /staff add telegram|viber USER_ID admin|operator [SERVICES],"
        " /staff remove telegram|viber USER_ID, /staff list"
    )
    if action == "list":
        return await list_staff(ctx)
    if action == "remove" and len(parts) == 2:
        return await remove_staff(ctx, parts[0], parts[1])
    if action == "add" and len(parts) in (3, 4):
        return await add_staff(ctx, parts)
    raise StaffError(usage)


async def remove_staff(ctx: Context, channel: str, external_id: str) -> Step:
    """Take the role of a member added with /staff add; the file's staff are changed in the file."""
    _ = ctx.t.gettext
    if any(m.messenger == channel and m.user_id == external_id for m in ctx.municipality.staff):
        text = _(
            "{channel}:{id} is staff in the municipality file; change the file to remove them.",
            channel=channel, id=external_id[:64],
        )  # fmt: skip
        return keep(ctx, [Reply(text)])
    removed = await staff.remove(
        ctx.conn, channel, external_id, ctx.registry.staff_states(), ctx.registry.home
    )
    if not removed:
        return keep(ctx, [Reply(_("No such staff member was added with /staff add."))])
    return keep(ctx, [Reply(_("Removed."))], [await menu_of(ctx, channel, external_id, "resident")])


# A user id as each messenger writes it: Telegram's are numbers, Viber's are base64.
USER_ID_FORMS = {
    "telegram": re.compile(r"[1-9][0-9]{0,19}"),
    "viber": re.compile(r"[A-Za-z0-9+/]{8,64}={0,2}"),
    "console": re.compile(r"[\w:.-]{1,64}"),
}


async def add_staff(ctx: Context, parts: list[str]) -> Step:
    """Add an admin or an operator of some services."""
    _ = ctx.t.gettext
    channel, external_id, role = parts[0], parts[1], parts[2]
    form = USER_ID_FORMS.get(
        channel, USER_ID_FORMS["console"] if channel == ctx.user.channel else None
    )
    if form is None or not form.fullmatch(external_id):
        raise StaffError(
            _("That is not a {channel} user id.", channel=channel[:20])
            if form is not None
            else _("Please check the messenger, the role and the services ({known}).",
                   known=", ".join(ctx.municipality.services))
        )  # fmt: skip
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
    added = Reply(_("Added {role} {channel}:{id}.", role=role, channel=channel, id=external_id))
    return keep(ctx, [added], [await menu_of(ctx, channel, external_id, role)])


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


def staff_errors_answered(command: StaffCommand) -> StaffCommand:
    """A command whose StaffError is the answer (nothing changed)."""

    async def run(ctx: Context, args: str) -> Step:
        try:
            return await command(ctx, args)
        except StaffError as e:
            return keep(ctx, [Reply(str(e))])

    return run


def _command(
    name: str, run: StaffCommand, help_line: str, role: Role = Role.OPERATOR
) -> CommandSpec:
    return CommandSpec(name, staff_errors_answered(run), role=role, help=help_line, leaves=False)


COMMANDS = (
    _command("inbox", inbox, N_("open reports, oldest first")),
    _command("show", show, N_("a report's card with its history")),
    _command("ack", ack, N_("acknowledge a report")),
    _command("progress", progress, N_("work on a report has started")),
    _command("resolve", resolve, N_("a report is resolved")),
    _command("reject", reject, N_("reject a report, with the reason")),
    _command("dup", duplicate, N_("a duplicate: its residents follow the original")),
    _command("reply", reply, N_("a public answer to the resident")),
    _command("note", note, N_("an internal note, never shown to the resident")),
    _command("ask", ask, N_("ask the resident a question")),
    _command("assign", assign, N_("pass a report to another service")),
    _command("reopen", reopen, N_("open a report again")),
    _command("stats", stats, N_("figures per service")),
    _command("templates", templates, N_("the canned answers")),
    _command("staff", staff_command, N_("add, remove or list staff"), Role.ADMIN),
)

FLOW = Flow(
    name="staff",
    states=StaffState,
    steps={
        (StaffState.REPLY, Text): reply_from_state,
        (StaffState.REPLY, Voice): reply_from_state,
        (StaffState.FIX_PHOTO, Photo): fix_photo,
        (StaffState.FIX_PHOTO, Text): moved_on,
        (StaffState.FIX_PHOTO, PromptChoice): end_question,
        (StaffState.REPLY, PromptChoice): end_question,
    },
    hints={
        StaffState.REPLY: N_("Please write the answer as a text message, or /cancel."),
        StaffState.FIX_PHOTO: N_("Please send the photo of the fix, or /cancel."),
    },
    prompts={StaffState.FIX_PHOTO: question, StaffState.REPLY: question},
    anywhere={
        CardAction: Anywhere(press_card, leaves=False),
        RejectReason: Anywhere(choose_reason, leaves=False),
    },
    commands=COMMANDS,
    look_ups={(StaffState.FIX_PHOTO, Photo): save_photo, (StaffState.REPLY, Voice): save_voice},
    jobs=(
        Job("sla", jobs.check_sla, seconds=300),
        Job("daily-digest", jobs.daily_digest, seconds=300),
        Job("staff-questions-expire", expire_questions, seconds=60),
    ),
    keeps=frozenset({StaffState.REPLY}),
    role=Role.OPERATOR,
    in_groups=True,
)

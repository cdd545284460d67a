"""Not the municipality's job: reports that belong to an outside body of the municipality file.

A resident choosing a category of a body is told at once who is responsible and how to reach
them; where the file says ``forward``, the report is still filed here and e-mailed to the body
(the place, the description and the photos; the first name only when the resident allows it),
else the resident is only told. Staff hand a report over with ``/handoff REF BODY``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import aiosqlite

from handlers import lifecycle
from handlers.body_config import Body
from handlers.context import Context, Step
from handlers.events import Button, Outgoing, Reply
from handlers.flow import ButtonData, CommandSpec, Flow, Role
from handlers.i18n import Translator, translator
from handlers.municipality import Municipality
from handlers.notices import EMAIL_CHANNEL, card_update, map_link, shorten, to_resident
from handlers.staff.commands import staff_errors_answered
from handlers.staff.operations import StaffError, in_scope, keep, split_ref
from handlers.texts import N_, category_name, status_name
from storage import opendata, reports
from storage.reports import Report
from storage.status import Status


@dataclass(frozen=True, slots=True)
class ShareName(ButtonData):
    """On the summary of a forwarded report: ``yes`` gives the body the first name, ``no`` not."""

    prefix = "bname"
    answer: str


@dataclass(frozen=True, slots=True)
class Notice:
    """What a resident choosing a category is told of an outside body, and whether to go on."""

    reply: Reply
    goes_on: bool


@dataclass(frozen=True, slots=True)
class Forwarded:
    """A report filed for an outside body: what the resident is told, and the e-mail to it."""

    text: str
    outgoing: list[Outgoing]


def category_notice(ctx: Context, category: str) -> Notice | None:
    """The body a category wholly or partly belongs to, in plain words (None: none does)."""
    _ = ctx.t.gettext
    body = ctx.municipality.body_for(category)
    if body is not None and body.forwards:
        text = _(
            "This is not the municipality's job: {body} is responsible for it.\n{contacts}\n\n"
            "You can still report it here: we forward it to them by e-mail with the place, the"
            " description and the photos (your name only if you allow it).",
            body=body.name_in(ctx.t), contacts=body.contacts(),
        )  # fmt: skip
        return Notice(Reply(text), goes_on=True)
    if body is not None:
        text = _(
            "This is not the municipality's job: {body} is responsible for it. Please contact"
            " them directly:\n{contacts}\n\nIf your problem is a different one, choose its kind"
            " below; /cancel drops the report.",
            body=body.name_in(ctx.t), contacts=body.contacts(),
        )  # fmt: skip
        return Notice(Reply(text), goes_on=False)
    notes = [shared_note(ctx.t, b) for b in ctx.municipality.bodies_sharing(category)]
    if not notes:
        return None
    after = _("You may still report it here; the municipality passes such reports on.")
    return Notice(Reply("\n\n".join([*notes, after])), goes_on=True)


def shared_note(t: Translator, body: Body) -> str:
    """Which cases of a category are a body's, and how to reach it."""
    return t.gettext(
        "Note: {cases} are not the municipality's job but that of {body}:\n{contacts}",
        cases=body.cases_in(t), body=body.name_in(t), contacts=body.contacts(),
    )  # fmt: skip


def summary_part(ctx: Context) -> tuple[str, list[list[Button]]]:
    """The summary's words on forwarding and the choice to give the body the first name."""
    _ = ctx.t.gettext
    body = ctx.municipality.body_for(str(ctx.draft.get("category", "")))
    if body is None or not body.forwards:
        return "", []
    name = body.name_in(ctx.t)
    if ctx.draft.get("share_name"):
        said = _("Your first name is given to them too.")
        choice = ShareName("no").button(_("🙈 Do not give them my name"))
    else:
        said = _("Your name is not given to them.")
        choice = ShareName("yes").button(_("👤 Give them my first name"))
    text = _(
        "This report is forwarded to {body} by e-mail: the place, the description and the photos.",
        body=name,
    )
    return f"\n\n{text} {said}", [[choice]]


async def forward_new(ctx: Context, report: Report) -> Forwarded | None:
    """A just-filed report of a forwarding body's category: handed over and e-mailed to it."""
    name = ctx.user.first_name if ctx.draft.get("share_name") else None
    forwarded = await forward_filed(ctx.conn, ctx.municipality, report, ctx.now, name)
    if forwarded is None:
        return None
    body, mail = forwarded
    return Forwarded(forwarded_text(ctx.t, report.ref, body), [mail])


async def forward_filed(
    conn: aiosqlite.Connection, m: Municipality, report: Report, now: datetime,
    first_name: str | None,
) -> tuple[Body, Outgoing] | None:  # fmt: skip
    """A just-filed report (from chat or the Open311 API) of a forwarding body's category:
    handed over to the body, with the e-mail to it; None when its category is the municipality's."""
    body = m.body_for(report.category)
    if body is None or not body.forwards:
        return None
    await hand_over(conn, m, report, body, actor_id=None, now=now)
    return body, mail_to_body(m, report, body, first_name)


def forwarded_text(t: Translator, ref: str, body: Body) -> str:
    """What the one who filed a forwarded report is told: who has it and how to reach them."""
    return t.gettext(
        "Thank you! Your report {ref} is registered and was forwarded to {body}, which is"
        " responsible for it. They deal with it themselves; you can reach them at:\n{contacts}",
        ref=ref, body=body.name_in(t), contacts=body.contacts(),
    )  # fmt: skip


async def hand_over(
    conn: aiosqlite.Connection, m: Municipality, report: Report, body: Body, *,
    actor_id: int | None, now: datetime,
) -> bool:  # fmt: skip
    """Move the report to handed_off with a public note naming the body, and name the body as
    the one responsible (Open311's agency_responsible); False if it changed meanwhile."""
    t = translator(m.staff_language, m.timezone)
    note = t.gettext("Forwarded to {body}", body=body.name_in(t))
    moved = await reports.transition(
        conn, report.id, report.status, Status.HANDED_OFF, actor_id=actor_id, now=now, text=note
    )
    if moved:
        await opendata.set_handed_to(conn, report.id, body.id)
    return moved


def mail_to_body(m: Municipality, report: Report, body: Body, first_name: str | None) -> Outgoing:
    """The e-mail to the body: the facts it needs, the photos, and no name unless allowed."""
    t = translator(m.staff_language, m.timezone)
    _ = t.gettext
    place = m.name_in(t.language)
    lines = [
        _(
            "A resident of {municipality} reported, through the municipality's service Moja"
            " opština, a problem that is your responsibility. The municipality forwards it to"
            " you and asks you to deal with it.",
            municipality=place,
        ),
        "",
        _("Reference: {ref}", ref=report.ref),
        _("Category: {category}", category=category_name(t, report.category)),
        _("Description: {description}", description=shorten(report.description)),
    ]
    if report.address:
        lines.append(_("Address: {address}", address=report.address))
    if report.latitude is not None and report.longitude is not None:
        lines.append(_("Map: {link}", link=map_link(report.latitude, report.longitude)))
    lines.append(_("Received: {at}", at=t.datetime(report.created_at)))
    lines.append(
        _("Reported by: {name}", name=first_name)
        if first_name
        else _("The resident did not agree to give you their name.")
    )
    subject = _(
        "Report {ref} ({municipality}): {category}",
        ref=report.ref, municipality=place, category=category_name(t, report.category),
    )  # fmt: skip
    mail = Reply("\n".join(lines), subject=subject, photos=report.photo_paths)
    assert body.email is not None  # noqa: S101 - only bodies that forward are mailed
    return Outgoing(EMAIL_CHANNEL, body.email, mail)


async def handoff(ctx: Context, args: str) -> Step:
    """/handoff REF BODY: the body gets the report (e-mailed where it takes them), resident told."""
    _ = ctx.t.gettext
    ref, rest = split_ref(args)
    bodies = ctx.municipality.bodies
    if not bodies:
        raise StaffError(_("The municipality file names no outside bodies."))
    known = ", ".join(bodies)
    body_id = rest.split(" ")[0].lower()
    if not ref or not body_id:
        raise StaffError(_("Please give the report and the body: /handoff REF BODY ({known})",
                           known=known))  # fmt: skip
    report = await in_scope(ctx, ref)
    body = bodies.get(body_id)
    if body is None:
        raise StaffError(_("Unknown body {body}. Bodies of the municipality file: {known}",
                           body=body_id[:40], known=known))  # fmt: skip
    if not lifecycle.allowed(report.status, Status.HANDED_OFF):
        raise StaffError(_("{ref} is {status}; it cannot be handed over.", ref=report.ref,
                           status=status_name(ctx.t, report.status)))  # fmt: skip
    if not await hand_over(
        ctx.conn, ctx.municipality, report, body, actor_id=ctx.user.id, now=ctx.now
    ):
        raise StaffError(_("{ref} was changed meanwhile; it is {status}.", ref=report.ref,
                           status=status_name(ctx.t, report.status)))  # fmt: skip
    updated = replace(report, status=Status.HANDED_OFF)
    outgoing = await card_update(ctx, updated)
    if body.forwards:  # a report filed for the municipality: nothing personal goes to the body
        outgoing.append(mail_to_body(ctx.municipality, updated, body, None))
    outgoing += await to_resident(ctx, updated, lambda t: [handed_notice(t, report, body)])
    done = _("{ref} was handed over to {body}; the resident was told.", ref=report.ref,
             body=body.name_in(ctx.t))  # fmt: skip
    if body.forwards:
        done += " " + _("It was e-mailed to {email}.", email=body.email)
    return keep(ctx, [Reply(done)], outgoing)


def handed_notice(t: Translator, report: Report, body: Body) -> Reply:
    """What the resident is told when staff hand their report over to an outside body."""
    _ = t.gettext
    text = _(
        "Your report {ref} is not the municipality's job: it was handed over to {body}, which is"
        " responsible for it.", ref=report.ref, body=body.name_in(t),
    )  # fmt: skip
    if body.forwards:
        text += " " + _("The municipality forwarded it to them by e-mail.")
    text += "\n" + _("To follow it up, contact them:\n{contacts}", contacts=body.contacts())
    return Reply(text)


HANDOFF = CommandSpec(
    "handoff", staff_errors_answered(handoff), role=Role.OPERATOR, leaves=False,
    help=N_("hand a report over to the outside body responsible for it"),
)  # fmt: skip
FLOW = Flow(name="bodies", commands=(HANDOFF,))

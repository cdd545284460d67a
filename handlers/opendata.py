"""Open data in chat and from other software: staff mark a report not public; an Open311 client
files a report exactly as a resident does in chat (routed, carded, audited, its source named)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import aiosqlite
from geopy.distance import geodesic

from handlers import bodies
from handlers.context import Context, Step
from handlers.events import MAX_CHART_BARS, Chart, Outgoing, Reply
from handlers.flow import CommandSpec, Entry, Flow, Role
from handlers.i18n import Translator, translator
from handlers.menu import Menu, MenuState, menu_reply
from handlers.municipality import Municipality
from handlers.notices import API_CHANNEL, new_report_notices
from handlers.report import MAX_DESCRIPTION, MIN_DESCRIPTION
from handlers.staff.commands import StaffCommand, staff_errors_answered
from handlers.staff.operations import in_scope, keep
from handlers.texts import N_
from storage import opendata, reports, users
from storage.opendata import Contact, PublicReport
from storage.reports import NewPhoto, NewReport
from storage.status import Status


def responsible(m: Municipality, t: Translator, report: PublicReport) -> tuple[str, str]:
    """Who is responsible for a report, as its code and name: the outside body it was handed over
    to (or, handed over before the body was stored, the body of its category), else the municipal
    service. Open311's agency_responsible, the data sets, the site and the scorecards all name
    this one."""
    code = holder(m)(report.service, report.status, report.handed_to, report.category)
    return code, holder_name(m, t, code)


def holder(m: Municipality) -> opendata.Holder:
    """Where a report is now (``responsible``'s code), from its service, status, the body it was
    handed to and its category: what the scorecards count it under."""

    def code(service: str, status: str, handed_to: str | None, category: str) -> str:
        if status == Status.HANDED_OFF:
            body = m.bodies.get(handed_to or "") or m.body_for(category)
            if body is not None:
                return body.id
        return service

    return code


def holder_name(m: Municipality, t: Translator, code: str) -> str:
    """The name of a municipal service or of an outside body, by its code."""
    body = None if code in m.services else m.bodies.get(code)
    return body.name_in(t) if body is not None else t.name(m.service_name(code))


def days(t: Translator, value: float | None) -> str:
    """A median in days as the reader writes numbers (1,5 in Serbian, 1.5 in English)."""
    return "-" if value is None else t.decimal(value)


async def make_private(ctx: Context, args: str) -> Step:
    """/private REF: the report appears in no API, data set or page (kept for staff as it was)."""
    return await _set_public(ctx, args, public=False)


async def make_public(ctx: Context, args: str) -> Step:
    """/public REF: the report is published again."""
    return await _set_public(ctx, args, public=True)


async def _set_public(ctx: Context, args: str, *, public: bool) -> Step:
    _ = ctx.t.gettext
    report = await in_scope(ctx, args.split(" ")[0])
    changed = await opendata.set_public(ctx.conn, report.id, public)
    if changed:
        await reports.add_event(
            ctx.conn, report.id, "published" if public else "unpublished",
            actor_id=ctx.user.id, now=ctx.now, public=False,
        )  # fmt: skip
    if public:
        text = _("{ref} is public again.", ref=report.ref)
    else:
        text = _("{ref} is not public now: no API, data set or page shows it.", ref=report.ref)
    return keep(ctx, [Reply(text)])


def _staff_command(name: str, run: StaffCommand, help_line: str) -> CommandSpec:
    return CommandSpec(
        name, staff_errors_answered(run), role=Role.OPERATOR, help=help_line, leaves=False
    )


async def how_we_do(ctx: Context) -> Step:
    """The scorecard of each service, in words (the site shows it with its chart)."""
    _ = ctx.t.gettext
    cards = await opendata.scorecards(ctx.conn, ctx.now, holder(ctx.municipality))
    lines = [_("How the municipal services handle the reports (all time):")]
    for c in cards:
        name = holder_name(ctx.municipality, ctx.t, c.service)
        within = "-" if c.resolved_in_time is None else f"{100 * c.resolved_in_time:.0f} %"
        text = _(
            "{service}: open now {open}; median days to acknowledge {ack}, to resolve {resolve};"
            " resolved within the deadline {within}",
            service=name,
            open=c.open_now,
            ack=days(ctx.t, c.median_ack_days),
            resolve=days(ctx.t, c.median_resolve_days),
            within=within,
        )
        lines.append(text)
    if not cards:
        lines.append(_("No reports yet."))
    answer = menu_reply(ctx, "\n\n".join(lines))
    return Step(MenuState.MAIN, {}, [replace(answer, chart=_in_time_chart(ctx, cards))])


def _in_time_chart(ctx: Context, cards: list[opendata.Scorecard]) -> Chart | None:
    """Each service's share resolved within its deadline, as a picture (drawn by the sender)."""
    shown = cards[:MAX_CHART_BARS]
    if not shown:
        return None
    return Chart(
        title=ctx.t.gettext("Reports resolved within the deadline (%)"),
        labels=tuple(holder_name(ctx.municipality, ctx.t, c.service) for c in shown),
        values=tuple(100 * (c.resolved_in_time or 0) for c in shown),
        value_labels=tuple(
            "-" if c.resolved_in_time is None else f"{100 * c.resolved_in_time:.0f} %"
            for c in shown
        ),
        maximum=100,
    )


FLOW = Flow(
    name="opendata",
    entries=(
        Entry(N_("📊 How is my municipality doing?"), Menu("scorecard"), how_we_do, order=45),
    ),
    commands=(
        _staff_command("private", make_private, N_("take a report out of the open data")),
        _staff_command("public", make_public, N_("publish a report again")),
    ),
)


# Filing from other software (the Open311 POST requests).


# The same request again from the same client within this time is a retry (a client that did not
# get the first answer), not a new report.
RETRY_WINDOW = timedelta(hours=1)


class SubmissionError(Exception):
    """A request an API client sent that cannot become a report; the message says why."""


class UnknownServiceError(SubmissionError):
    """The ``service_code`` names no service (Open311 answers 404: no such resource)."""


@dataclass(frozen=True, slots=True)
class Submission:
    """What an API client sent, checked for form (the location is checked when filed)."""

    category: str
    description: str
    latitude: float | None
    longitude: float | None
    address: str | None
    contact: Contact = field(default_factory=Contact)
    photo: NewPhoto | None = None


@dataclass(frozen=True, slots=True)
class Filed:
    """A report filed for an API client (its id is known at once: no token is given)."""

    ref: str
    notice: str
    outgoing: list[Outgoing]


def check_submission(m: Municipality, s: Submission) -> None:
    """Raise ``SubmissionError`` unless the submission could be a report from chat."""
    if not s.category:
        raise SubmissionError("service_code: required")
    if s.category not in m.categories:
        raise UnknownServiceError(f"service_code {s.category[:40]}: no such service")
    body = m.body_for(s.category)
    if body is not None and not body.forwards:
        # As in chat: nothing is filed, and the one who sent it is told whom to turn to.
        raise SubmissionError(
            f"service_code: not the municipality's job: {body.name_in(translator('en'))} is"
            f" responsible for it; please contact them directly: {body.contacts()}"
        )
    if not MIN_DESCRIPTION <= len(s.description.strip()) <= MAX_DESCRIPTION:
        raise SubmissionError(
            f"description: between {MIN_DESCRIPTION} and {MAX_DESCRIPTION} characters"
        )
    if s.latitude is None or s.longitude is None:
        if not s.address:
            raise SubmissionError("lat and long, or address_string, are required")
        return
    lat, lon = s.latitude, s.longitude
    if not (math.isfinite(lat) and math.isfinite(lon)) or not (
        -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0, 0)
    ):
        raise SubmissionError("lat, long: not a valid location")
    if geodesic((m.center_lat, m.center_lon), (lat, lon)).km > m.radius_km:
        raise SubmissionError("lat, long: outside the municipality")


async def file_submission(
    conn: aiosqlite.Connection, m: Municipality, client: str, s: Submission, now: datetime
) -> Filed:
    """Store the report as chat would, inside the caller's transaction, with its notices."""
    check_submission(m, s)
    source, description = f"open311:{client}", s.description.strip()
    # Looked for inside the write transaction: two retries at once cannot both be filed.
    earlier = await opendata.filed_since(
        conn, source, s.category, description, (s.latitude, s.longitude), s.contact,
        now - RETRY_WINDOW,
    )  # fmt: skip
    if earlier is not None:
        raise SubmissionError(f"duplicate: the same request was filed as {earlier}")
    user = await _client_user(conn, client, now)
    service = m.service_for(s.category)
    new = NewReport(
        user_id=user.id, category=s.category, service=service.id, description=description,
        latitude=s.latitude, longitude=s.longitude, address=s.address,
        photos=(s.photo,) if s.photo else (), sla_hours=service.sla_hours,
    )  # fmt: skip
    stored = await reports.file_report(conn, m.code, new, now)
    ref = stored.ref
    await opendata.set_source(conn, stored.id, source)
    if not s.contact.empty:
        await opendata.save_contact(conn, stored.id, s.contact)
    t = translator(m.staff_language)
    # A forwarding body's report goes to the body, never to the municipal staff's chats; the
    # contact the client sent is kept for the municipality, and no name goes to the body.
    forwarded = await bodies.forward_filed(conn, m, stored, now, None)
    if forwarded is not None:
        body, mail = forwarded
        return Filed(ref, bodies.forwarded_text(t, ref, body), [mail])
    # The card names the client: staff see where the report came from, and whom to ask.
    reporter = f"{s.contact.first_name} ({client}, Open311)" if s.contact.first_name else None
    outgoing = new_report_notices(m, stored, reporter or f"{client} (Open311)")
    notice = t.gettext(
        "Your report is registered under the number {ref}. It is published without your name.",
        ref=ref,
    )
    shared = [bodies.shared_note(t, b) for b in m.bodies_sharing(s.category)]
    return Filed(ref, "\n\n".join([notice, *shared]), outgoing)


async def _client_user(conn: aiosqlite.Connection, client: str, now: datetime) -> users.User:
    """The user that stands for an API client (one per client; no chat to write to)."""
    found = await users.load_conversation(conn, API_CHANNEL, client)
    if found is not None:
        return found.user
    return await users.create_user(
        conn, channel=API_CHANNEL, external_id=client, chat_id="", first_name=client[:64],
        role="resident", now=now,
    )  # fmt: skip

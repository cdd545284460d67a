"""What reports look like to staff (the card, e-mail) and what residents are told of them."""

from __future__ import annotations

from collections.abc import Callable

from handlers.context import Context
from handlers.events import Choices, Outgoing, Reply
from handlers.i18n import Translator, translator
from handlers.municipality import Municipality
from handlers.staff.card import card_buttons
from handlers.texts import category_name, status_name
from handlers.voice import voice_line
from storage import duplicates, users
from storage.reports import Report

ResidentMessage = Callable[[Translator], list[Reply]]
STAFF_CHANNEL = "telegram"  # staff chats are Telegram groups
EMAIL_CHANNEL = "email"
API_CHANNEL = "open311"  # reports filed by other software: there is no chat to tell


def map_link(latitude: float, longitude: float) -> str:
    """An OpenStreetMap link to a point."""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}"
        f"#map=18/{latitude:.6f}/{longitude:.6f}"
    )


def report_details(t: Translator, m: Municipality, report: Report, reporter: str) -> str:
    """The facts of a report for the staff, in one text."""
    _ = t.gettext
    lines = [
        f"{report.ref} · {status_name(t, report.status).upper()}",
        _("Category: {category}", category=category_name(t, report.category)),
        _("Service: {service}", service=t.name(m.service_name(report.service))),
        _("Description: {description}", description=shorten(report.description)),
    ]
    if report.voice:
        lines.append(voice_line(t))
    if report.address:
        lines.append(_("Address: {address}", address=report.address))
    if report.latitude is not None and report.longitude is not None:
        lines.append(_("Map: {link}", link=map_link(report.latitude, report.longitude)))
    lines.append(_("Reported by: {name}", name=reporter))
    if report.followers:
        residents = report.followers + 1
        lines.append(t.ngettext(
            "{n} resident reported this problem", "{n} residents reported this problem", residents
        ))  # fmt: skip
    lines += [
        _("Received: {at}", at=t.datetime(report.created_at)),
        _("Deadline (SLA): {at}", at=t.datetime(report.sla_due_at)),
    ]
    return "\n".join(lines)


CARD_DESCRIPTION = 3000  # leaves room for the rest within one 4,096-character message


def shorten(text: str, limit: int = CARD_DESCRIPTION) -> str:
    """A text cut to ``limit`` characters, marked with … (the card must stay one message)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def reporter_name(t: Translator, report: Report, first_name: str) -> str:
    """The resident's first name, or "anonymous" when they asked for it."""
    return t.gettext("anonymous") if report.anonymous or not first_name else first_name


def card(
    m: Municipality, report: Report, first_name: str, *, edit: bool, t: Translator | None = None
) -> Reply:
    """The report's card, edited in place as the status changes.

    A staff chat's card is in the staff's language (``t`` None); one sent to a person's private
    chat (/show) is in that person's language and script (``t``).
    """
    t = t or translator(m.staff_language, m.timezone)
    text = report_details(t, m, report, reporter_name(t, report, first_name))
    return Reply(
        text,
        Choices(card_buttons(t, report)),
        photos=() if edit else report.photo_paths,
        voice="" if edit else report.voice or "",
        key=f"card:{report.id}",
        edit=edit,
    )


def to_service(m: Municipality, service_id: str, reply: Reply) -> list[Outgoing]:
    """A message to a service's staff chat (when it has one)."""
    service = m.services.get(service_id)
    chat = service.staff_chat_id if service else None
    return [Outgoing(STAFF_CHANNEL, str(chat), reply)] if chat is not None else []


def new_report_notices(m: Municipality, report: Report, first_name: str) -> list[Outgoing]:
    """The card to the service's staff chat and the e-mail to its address."""
    service = m.services.get(report.service)
    if service is None:
        return []
    out = to_service(m, service.id, card(m, report, first_name, edit=False))
    if service.email:
        t = translator(m.staff_language, m.timezone)
        subject = t.gettext(
            "New report {ref}: {category}",
            ref=report.ref,
            category=category_name(t, report.category),
        )
        body = report_details(t, m, report, reporter_name(t, report, first_name))
        mail = Reply(body, subject=subject, photos=report.photo_paths, voice=report.voice or "")
        out.append(Outgoing(EMAIL_CHANNEL, service.email, mail))
    return out


async def to_resident(ctx: Context, report: Report, build: ResidentMessage) -> list[Outgoing]:
    """A message to the report's resident, rendered in their language."""
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    if resident is None or resident.user.channel == API_CHANNEL or not resident.user.chat_id:
        # API reports and anonymised ones: there is no chat to tell
        return []
    user = resident.user
    return [
        Outgoing(user.channel, user.chat_id, r) for r in build(ctx.translator_for(user.language))
    ]


async def to_followers(ctx: Context, report: Report, build: ResidentMessage) -> list[Outgoing]:
    """The same news to the residents who follow the report ("me too"), in their languages."""
    chats = await duplicates.follower_chats(ctx.conn, report.id)
    return [
        Outgoing(c.channel, c.chat_id, r)
        for c in chats
        for r in build(ctx.translator_for(c.language))
    ]


async def to_residents(
    ctx: Context,
    report: Report,
    build: ResidentMessage,
    for_followers: ResidentMessage | None = None,
) -> list[Outgoing]:
    """A report's news to its resident and its followers (``for_followers`` if theirs differs)."""
    return [
        *await to_resident(ctx, report, build),
        *await to_followers(ctx, report, for_followers or build),
    ]


async def to_users(ctx: Context, user_ids: list[int], build: ResidentMessage) -> list[Outgoing]:
    """A message to some residents, each in their language (those without a chat are skipped)."""
    chats = await duplicates.chats(ctx.conn, user_ids)
    return [
        Outgoing(c.channel, c.chat_id, r)
        for c in chats
        for r in build(ctx.translator_for(c.language))
    ]


async def card_update(ctx: Context, report: Report) -> list[Outgoing]:
    """The edited card for the report's service chat."""
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    name = resident.user.first_name if resident else ""
    return list(
        to_service(
            ctx.municipality, report.service, card(ctx.municipality, report, name, edit=True)
        )
    )

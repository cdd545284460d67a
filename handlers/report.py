"""Reporting a problem: category, description, photos, location, summary, confirmation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from geopy.distance import geodesic, great_circle

from handlers import bodies, duplicates
from handlers.bodies import ShareName
from handlers.context import Context, Deps, Lookup, Step, buttons, column
from handlers.duplicates import NewProblem, SameProblem
from handlers.events import (
    AskLocation,
    ButtonChoice,
    Choices,
    Inbound,
    Location,
    Photo,
    RemoveKeyboard,
    Reply,
    Text,
    Voice,
)
from handlers.flow import (
    ButtonData,
    Entry,
    Flow,
    Kind,
    LookUpFn,
    Prompt,
    ReadAhead,
    Start,
    StepFn,
    Typed,
)
from handlers.i18n import Translator
from handlers.menu import Menu, MenuState, menu_reply
from handlers.municipality import CATEGORY_IDS, Municipality
from handlers.notices import new_report_notices
from handlers.photos import MAX_PHOTOS, save_photo, unusable_photo
from handlers.ports import GeocoderUnavailableError
from handlers.texts import N_, category_name
from handlers.voice import refusal, save_voice, saved_voice, voice_line
from storage import privacy, reports
from storage.reports import FreeNumbers, NewPhoto, NewReport
from storage.sql import Statement, fetch_one


class ReportState(StrEnum):
    """The steps of writing a report."""

    CATEGORY = "report:category"
    DESCRIPTION = "report:description"
    PHOTOS = "report:photos"
    LOCATION = "report:location"
    ADDRESS = "report:address"
    SUMMARY = "report:summary"
    EDIT = "report:edit"
    SIMILAR = "report:similar"


CATEGORY, DESCRIPTION, PHOTOS, LOCATION, ADDRESS, SUMMARY, EDIT, SIMILAR = ReportState
REPORT_STATES = frozenset(ReportState)


@dataclass(frozen=True, slots=True)
class Category(ButtonData):
    """The kind of problem."""

    prefix = "cat"
    id: str


@dataclass(frozen=True, slots=True)
class PhotosDone(ButtonData):
    """Go on from the photos: ``done`` with some, ``skip`` without."""

    prefix = "photos"
    how: str


@dataclass(frozen=True, slots=True)
class AddressAnswer(ButtonData):
    """Whether the geocoded address is the place: ``yes`` or ``no``."""

    prefix = "addr"
    answer: str


@dataclass(frozen=True, slots=True)
class SummaryAction(ButtonData):
    """``confirm``, ``edit``, ``cancel``, ``anon`` or ``named`` on the summary."""

    prefix = "sum"
    action: str


@dataclass(frozen=True, slots=True)
class EditPart(ButtonData):
    """The part of the draft to change, or ``back`` to the summary."""

    prefix = "edit"
    part: str


MIN_DESCRIPTION, MAX_DESCRIPTION = 3, 4000
MAX_ADDRESS = 300


STARTS_WINDOW = timedelta(hours=1)  # the municipality's limit counts starts over this


def recent_starts(channel: str, external_id: str, now: datetime) -> Statement:
    """The user's report starts within the window, read with the batch's first hop."""
    return reports.recent_starts_statement(channel, external_id, now - STARTS_WINDOW)


async def claim_start(ctx: Context) -> bool:
    """Record a report start unless the limit of the window is reached."""
    # One event of a user at a time, and only theirs start reports: the count read ahead holds.
    started = ctx.ahead.get(RECENT_STARTS.name)
    if started is None:  # not read ahead for this event: read now
        sql, params = recent_starts(ctx.user.channel, ctx.user.external_id, ctx.now)
        row = await fetch_one(ctx.conn, sql, params)
        started = row[0] if row else 0
    if started >= ctx.municipality.reports_per_hour:
        return False
    await reports.record_start(ctx.conn, ctx.user.id, ctx.now)
    return True


START_BUTTON = Menu("report").pack()
QUICK_STARTS = (Photo, Location, Voice)  # a report begun with one of these (see below)


def may_start(state: str, event: Inbound) -> bool:
    """Whether the event may start a report: the menu's button, or a quick report's photo,
    location or voice note sent outside a report."""
    if isinstance(event, ButtonChoice):
        return event.data == START_BUTTON
    return isinstance(event, QUICK_STARTS) and state not in REPORT_STATES


def may_file(state: str, event: Inbound) -> bool:
    """Whether the event may file a report (a button on the summary)."""
    return state == SUMMARY and isinstance(event, ButtonChoice)


RECENT_STARTS = ReadAhead("report_starts", recent_starts, wanted=may_start)


def next_id(channel: str, external_id: str, now: datetime) -> Statement:
    """The next free report id, read with the batch's first hop."""
    return reports.next_id_statement()


def next_seq(channel: str, external_id: str, now: datetime) -> Statement:
    """The next free report number of the year, read with the batch's first hop."""
    return reports.next_seq_statement(now)


# The confirmation names the report's number: read ahead, filing it needs no call of its own.
NEXT_ID = ReadAhead("report_next_id", next_id, wanted=may_file)
NEXT_SEQ = ReadAhead("report_next_seq", next_seq, wanted=may_file)


def free_numbers(ctx: Context) -> FreeNumbers | None:
    """The next free report id and number read ahead, if they were."""
    free_id, free_seq = ctx.ahead.get(NEXT_ID.name), ctx.ahead.get(NEXT_SEQ.name)
    if free_id is None or free_seq is None:
        return None
    return FreeNumbers(int(free_id), int(free_seq))


async def start_report(ctx: Context) -> Step:
    """Begin a new draft, unless the resident has started too many reports this hour."""
    _ = ctx.t.gettext
    limit = ctx.municipality.reports_per_hour
    if not await claim_start(ctx):
        text = _(
            "You have started {limit} reports in the last hour. Please wait a while before"
            " starting another one.",
            limit=limit,
        )
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])
    return Step(CATEGORY, {}, ask_category(ctx))


def ask_category(ctx: Context) -> list[Reply]:
    """Offer the categories."""
    offered = tuple(cid for cid in CATEGORY_IDS if cid in ctx.municipality.categories)
    choices = category_choices(ctx.t, offered)
    return [Reply(ctx.t.gettext("What kind of problem is it?"), choices)]


@lru_cache(maxsize=64)
def category_choices(t: Translator, offered: tuple[str, ...]) -> Choices:
    """The categories' buttons, made once per language (every report asks)."""
    return column([Category(cid).button(category_name(t, cid)) for cid in offered])


def ask_description(ctx: Context) -> list[Reply]:
    """Ask for the description."""
    return [Reply(ctx.t.gettext("Describe the problem in a few words: what is wrong and where."))]


def ask_photos(ctx: Context) -> list[Reply]:
    """Ask for photos, with Done once there is one and Skip before."""
    _ = ctx.t.gettext
    count = len(ctx.draft.get("photos", []))
    go_on = (
        PhotosDone("done").button(_("✅ Done")) if count else PhotosDone("skip").button(_("⏭ Skip"))
    )
    text = _(
        "Send up to {max} photos of the problem, one by one, or skip this step.", max=MAX_PHOTOS
    )
    return [Reply(text, buttons([go_on]))]


def ask_location(ctx: Context) -> list[Reply]:
    """Ask for the location: a shared pin or a typed address."""
    _ = ctx.t.gettext
    text = _(
        "Where is the problem? Share the location with the button below, or type the address"
        " (street and number)."
    )
    return [Reply(text, AskLocation(_("📍 Send my location")))]


def location_received(ctx: Context) -> Reply:
    """Acknowledge the location and take the location keyboard away."""
    return Reply(ctx.t.gettext("📍 Location received."), RemoveKeyboard())


def ask_address_confirmation(ctx: Context) -> list[Reply]:
    """Show the geocoded address back for confirmation."""
    _ = ctx.t.gettext
    place = ctx.draft.get("pending", {})
    return [
        Reply(
            _("Is this the place?\n{address}", address=place.get("address", "")),
            buttons(
                [
                    AddressAnswer("yes").button(_("Yes")),
                    AddressAnswer("no").button(_("No, type again")),
                ]
            ),
        )
    ]


def summary(ctx: Context) -> list[Reply]:
    """Show the whole draft with Confirm / Edit / Cancel."""
    _ = ctx.t.gettext
    d = ctx.draft
    text = _(
        "Please check your report:\n\nCategory: {category}\nDescription: {description}\n"
        "Photos: {photos}\nLocation: {location}",
        category=category_name(ctx.t, d.get("category", "other")),
        description=d.get("description") or (voice_line(ctx.t) if d.get("voice") else ""),
        photos=len(d.get("photos", [])),
        location=location_text(ctx, d),
    )
    if d.get("anonymous"):
        text += "\n" + _("Your name is not shown to the municipal staff.")
        privacy = SummaryAction("named").button(_("👤 Show my first name"))
    else:
        privacy = SummaryAction("anon").button(_("🙈 Send without my name"))
    # Told before confirming: the report is published (open data), never the name.
    text += "\n\n" + _(
        "Once sent, the report is published on the municipality's open data, without your name."
    )
    forwarding, share_row = bodies.summary_part(ctx)
    text += forwarding
    keys = buttons(
        [SummaryAction("confirm").button(_("✅ Confirm"))],
        [SummaryAction("edit").button(_("✏️ Edit")), SummaryAction("cancel").button(_("✖️ Cancel"))],
        [privacy],
        *share_row,
    )
    return [Reply(text, keys)]


def location_text(ctx: Context, d: dict[str, Any]) -> str:
    """Describe a draft's or report's location in words."""
    if d.get("address") and d.get("latitude") is not None:
        return f"{d['address']} ({d['latitude']:.5f}, {d['longitude']:.5f})"
    if d.get("address"):
        return str(d["address"])
    if d.get("latitude") is not None:
        return f"{d['latitude']:.5f}, {d['longitude']:.5f}"
    return ctx.t.gettext("not given")


def ask_edit(ctx: Context) -> list[Reply]:
    """Offer the parts of the draft that can be changed."""
    _ = ctx.t.gettext
    parts = [
        EditPart("category").button(_("Category")),
        EditPart("description").button(_("Description")),
        EditPart("photos").button(_("Photos")),
        EditPart("location").button(_("Location")),
        EditPart("back").button(_("↩️ Back to the summary")),
    ]
    return [Reply(_("What would you like to change?"), column(parts))]


PROMPTS: dict[ReportState, Prompt] = {
    CATEGORY: ask_category,
    DESCRIPTION: ask_description,
    PHOTOS: ask_photos,
    LOCATION: ask_location,
    ADDRESS: ask_address_confirmation,
    SUMMARY: summary,
    EDIT: ask_edit,
    SIMILAR: duplicates.ask_which,
}


ORDER = (CATEGORY, DESCRIPTION, PHOTOS, LOCATION, SUMMARY)


def first_missing(draft: dict[str, Any], state: ReportState) -> ReportState:
    """``state``, or the first step after it whose part a quick report has already given."""
    known = {
        CATEGORY: "category" in draft,
        DESCRIPTION: "description" in draft,
        PHOTOS: bool(draft.get("photos")),
        LOCATION: draft.get("latitude") is not None or bool(draft.get("address")),
    }
    return next((s for s in ORDER[ORDER.index(state) :] if not known.get(s)), SUMMARY)


async def _next(
    ctx: Context, draft: dict[str, Any], state: ReportState, before: tuple[Reply, ...] = ()
) -> Step:
    """Go to ``state`` (or past the parts the draft has), or to the summary when editing."""
    target = SUMMARY if draft.get("editing") else first_missing(draft, state)
    if target == SUMMARY:
        return await offer_similar(ctx, draft, *before)
    ctx.draft = draft
    return Step(target, draft, [*before, *PROMPTS[target](ctx)])


async def offer_similar(ctx: Context, draft: dict[str, Any], *before: Reply) -> Step:
    """Before the summary: open reports of the same kind near the place, if not offered yet.

    The offer is made once per category and place (an edit of either makes it anew).
    """
    seen = [draft.get("category"), draft.get("latitude"), draft.get("longitude")]
    fresh = draft.get("similar_seen") != seen
    found = await duplicates.find_similar(ctx, draft) if fresh else []
    ctx.draft = {k: v for k, v in draft.items() if k != "similar"} | {"similar_seen": seen}
    if not found:
        return Step(SUMMARY, ctx.draft, [*before, *summary(ctx)])
    ctx.draft["similar"] = duplicates.offered(found)
    return Step(SIMILAR, ctx.draft, [*before, *duplicates.offer(ctx, found)])


async def same_problem(ctx: Context, press: SameProblem) -> Step | None:
    """Follow the open report the resident recognised, with the draft as their part of it (for
    the staff); nothing is filed."""
    if not duplicates.was_offered(ctx, press.report_id):
        return None  # a made-up or stale id: the question again
    report = await reports.get_report(ctx.conn, press.report_id)
    if report is None or not report.is_open:
        closed = Reply(ctx.t.gettext("That report is no longer open, so yours is a new one."))
        return await not_the_same(ctx, NewProblem("new"), closed)
    text, outgoing = await duplicates.follow(ctx, report)
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)], outgoing)


async def not_the_same(ctx: Context, press: NewProblem, *before: Reply) -> Step | None:
    """None of the offered reports: on to the summary of a new one."""
    if press.answer != "new":
        return None
    draft = {k: v for k, v in ctx.draft.items() if k != "similar"}
    return _back_to_summary(ctx, draft, before)


async def choose_category(ctx: Context, choice: Category) -> Step | None:
    """Take the category."""
    if choice.id not in ctx.municipality.categories:
        return None
    notice = bodies.category_notice(ctx, choice.id)
    if notice is not None and not notice.goes_on:  # only told: the draft waits for another kind
        return Step(CATEGORY, ctx.draft, [notice.reply, *ask_category(ctx)])
    told = (notice.reply,) if notice else ()
    return await _next(ctx, {**ctx.draft, "category": choice.id}, DESCRIPTION, told)


async def share_name(ctx: Context, choice: ShareName) -> Step | None:
    """Whether the outside body a report is forwarded to gets the resident's first name."""
    if choice.answer not in ("yes", "no"):
        return None
    return _back_to_summary(ctx, {**ctx.draft, "share_name": choice.answer == "yes"})


async def describe(ctx: Context, event: Text) -> Step:
    """Take the description, 3 to 4000 characters."""
    text = event.text.strip()
    if not MIN_DESCRIPTION <= len(text) <= MAX_DESCRIPTION:
        message = ctx.t.gettext(
            "The description must be between {min} and {max} characters long; yours has {n}."
            " Please write it again.",
            min=MIN_DESCRIPTION,
            max=MAX_DESCRIPTION,
            n=len(text),
        )
        return Step(DESCRIPTION, ctx.draft, [Reply(message)])
    draft = {k: v for k, v in ctx.draft.items() if k != "voice"}
    return await _next(ctx, {**draft, "description": text}, PHOTOS)


async def describe_by_voice(ctx: Context, event: Voice) -> Step:
    """Take a voice note, saved before the transaction, as the description."""
    del event
    path = saved_voice(ctx)
    if path is None:
        return Step(DESCRIPTION, ctx.draft, [Reply(refusal(ctx)), *ask_description(ctx)])
    return await _next(ctx, {**ctx.draft, "description": "", "voice": path}, PHOTOS)


async def add_photo(ctx: Context, event: Photo) -> Step:
    """Attach a photo that was saved before the transaction, or say why it was refused.

    A photo is taken at any step before the summary (an album, a photo before its question);
    its caption is the description when that is still asked for. The question is not asked
    again after each of an album's later photos: they arrive one by one, as one sending.
    """
    _ = ctx.t.gettext
    here = ReportState(ctx.state)
    lookup = ctx.lookup or Lookup("invalid")
    known = ctx.draft.get("photos", [])
    ask_again = not same_album(ctx, event)
    if lookup.outcome != "saved" or len(known) >= MAX_PHOTOS:
        if lookup.outcome == "saved":  # saved before the step knew it was one too many
            await privacy.discard_unused_photos(ctx.conn, [str(lookup.data["path"])])
        ask = PROMPTS[here](ctx) if ask_again else []
        return Step(here, ctx.draft, [Reply(photo_refusal(ctx, lookup)), *ask])
    photo = {**lookup.data, "channel": event.sender.channel, "file_id": event.file_id}
    photos = [*known, photo]
    added = Reply(_("Photo {n} of {max} added.", n=len(photos), max=MAX_PHOTOS))
    draft = {**ctx.draft, "photos": photos, "album": event.album, **caption_description(ctx, event)}
    located = first_missing(draft, LOCATION) != LOCATION and not draft.get("editing")
    if here == PHOTOS and (len(photos) == MAX_PHOTOS or located):
        return await _next(ctx, draft, LOCATION, (added,))
    if here == DESCRIPTION and "description" in draft:
        return await _next(ctx, draft, PHOTOS, (added,))
    ctx.draft = draft
    return Step(here, draft, [added, *(PROMPTS[here](ctx) if ask_again else [])])


def same_album(ctx: Context, event: Photo) -> bool:
    """Whether the photo belongs to the album whose earlier photo the draft took."""
    return bool(event.album) and ctx.draft.get("album") == event.album


def photo_refusal(ctx: Context, lookup: Lookup) -> str:
    """Why a photo was not added."""
    if lookup.outcome == "saved":
        return ctx.t.gettext(
            "A report has at most {max} photos; this one was not added.", max=MAX_PHOTOS
        )
    return unusable_photo(ctx.t, lookup)


def caption_description(ctx: Context, event: Photo) -> dict[str, str]:
    """The photo's caption as the description, where one is still wanted and it is long enough."""
    caption = event.caption.strip()
    wanted = ctx.state == DESCRIPTION or "description" not in ctx.draft
    if not wanted or not MIN_DESCRIPTION <= len(caption) <= MAX_DESCRIPTION:
        return {}
    return {"description": caption}


async def finish_photos(ctx: Context, choice: PhotosDone) -> Step | None:
    """Move on from the photos."""
    if choice.how not in ("done", "skip"):
        return None
    return await _next(ctx, ctx.draft, LOCATION)


def _back_to_summary(ctx: Context, draft: dict[str, Any], before: tuple[Reply, ...] = ()) -> Step:
    ctx.draft = draft
    return Step(SUMMARY, draft, [*before, *summary(ctx)])


async def share_location(ctx: Context, event: Location) -> Step:
    """Take a shared location if it lies within the municipality."""
    refusal = check_location(ctx, event.latitude, event.longitude)
    if refusal:
        return Step(ctx.state, ctx.draft, [Reply(refusal), *ask_location(ctx)])
    return await offer_similar(ctx, with_location(ctx, event), location_received(ctx))


def with_location(ctx: Context, event: Location) -> dict[str, Any]:
    """The draft with a shared location (and the address found for it)."""
    address = ctx.lookup.data.get("address") if ctx.lookup else None
    draft = {**ctx.draft, "latitude": event.latitude, "longitude": event.longitude}
    draft["address"] = address or event.title or None
    draft.pop("pending", None)
    return draft


async def note_location(ctx: Context, event: Location) -> Step:
    """A location shared before its question: kept, and the current question asked again."""
    here = ReportState(ctx.state)
    refusal = check_location(ctx, event.latitude, event.longitude)
    if refusal:
        return Step(here, ctx.draft, [Reply(refusal), *PROMPTS[here](ctx)])
    draft = with_location(ctx, event)
    if here == PHOTOS:  # instead of Done: the photos are over
        return await _next(ctx, draft, LOCATION, (location_received(ctx),))
    ctx.draft = draft
    return Step(here, draft, [location_received(ctx), *PROMPTS[here](ctx)])


def distance_km(m: Municipality, latitude: float, longitude: float) -> float | None:
    """How far a point is from the municipality's centre (on the sphere when well inside), in km;
    None when it is no real point."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)) or (
        not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
        or (latitude == 0 and longitude == 0)
    ):
        return None
    centre, point = (m.center_lat, m.center_lon), (latitude, longitude)
    # The sphere's distance is within 0.6% of the ellipsoid's and costs a tenth: a point well
    # inside needs no more; near the edge or outside, the ellipsoid decides (and is said).
    sphere = float(great_circle(centre, point).km)
    if sphere <= m.radius_km * 0.99:
        return sphere
    return float(geodesic(centre, point).km)


def check_location(ctx: Context, latitude: float, longitude: float) -> str | None:
    """Return why a point cannot be accepted, or None when it lies within the municipality."""
    _ = ctx.t.gettext
    m = ctx.municipality
    km = distance_km(m, latitude, longitude)
    if km is None:
        return _("That location is not valid. Please share the place of the problem again.")
    if km <= m.radius_km:
        return None
    distance, radius = f"{km:.1f}", f"{m.radius_km:g}"
    return _(
        "That place is {distance} km from {name}, outside the municipality (we accept places"
        " within {radius} km). Please share the location of the problem.",
        distance=distance,
        name=ctx.municipality.name_in(ctx.t.language),
        radius=radius,
    )


async def type_address(ctx: Context, event: Text) -> Step:
    """Take a typed address: confirm what the geocoder found, or keep the text when it is down."""
    _ = ctx.t.gettext
    query = event.text.strip()
    if not 3 <= len(query) <= MAX_ADDRESS:
        return Step(
            LOCATION,
            ctx.draft,
            [
                Reply(
                    _(
                        "Please type the address as a street and number (3 to {max} characters).",
                        max=MAX_ADDRESS,
                    )
                )
            ],
        )
    outcome = ctx.lookup.outcome if ctx.lookup else "unavailable"
    if outcome == "unavailable":
        draft = {**ctx.draft, "address": query, "latitude": None, "longitude": None}
        note = Reply(
            _(
                "The map service is not available right now, so the address is kept as you"
                " wrote it."
            ),
            RemoveKeyboard(),
        )
        ctx.draft = draft
        return Step(SUMMARY, draft, [note, *summary(ctx)])
    if outcome == "not_found" or ctx.lookup is None:
        return Step(
            LOCATION,
            ctx.draft,
            [
                Reply(
                    _(
                        "I could not find that address. Please try again with the street and"
                        " number, or share the location."
                    )
                ),
                *ask_location(ctx),
            ],
        )
    place = ctx.lookup.data
    refusal = check_location(ctx, place["latitude"], place["longitude"])
    if refusal:
        return Step(LOCATION, ctx.draft, [Reply(refusal), *ask_location(ctx)])
    ctx.draft = {**ctx.draft, "pending": place}
    return Step(ADDRESS, ctx.draft, ask_address_confirmation(ctx))


async def confirm_address(ctx: Context, choice: AddressAnswer) -> Step | None:
    """Accept or refuse the address the geocoder found."""
    pending = ctx.draft.get("pending")
    if choice.answer not in ("yes", "no") or not pending:
        return None
    draft = {k: v for k, v in ctx.draft.items() if k != "pending"}
    if choice.answer == "no":
        ctx.draft = draft
        return Step(LOCATION, draft, ask_location(ctx))
    draft.update(
        latitude=pending["latitude"], longitude=pending["longitude"], address=pending["address"]
    )
    return await offer_similar(ctx, draft, location_received(ctx))


async def decide_summary(ctx: Context, choice: SummaryAction) -> Step | None:
    """Confirm, edit or cancel the report."""
    _ = ctx.t.gettext
    if choice.action == "cancel":
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, _("The report was cancelled."))])
    if choice.action == "edit":
        ctx.draft = {**ctx.draft, "editing": True}
        return Step(EDIT, ctx.draft, ask_edit(ctx))
    if choice.action in ("anon", "named"):
        ctx.draft = {**ctx.draft, "anonymous": choice.action == "anon"}
        return Step(SUMMARY, ctx.draft, summary(ctx))
    if choice.action != "confirm":
        return None
    stored = await reports.file_report(
        ctx.conn, ctx.municipality.code, new_report(ctx), ctx.now, free=free_numbers(ctx)
    )
    text = _(
        "Thank you! Your report is registered under the number {ref}. You will get a message"
        " here whenever its status changes; you can also find it under My reports.",
        ref=stored.ref,
    )
    forwarded = await bodies.forward_new(ctx, stored)
    if forwarded is not None:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, forwarded.text)], forwarded.outgoing)
    notices = new_report_notices(ctx.municipality, stored, ctx.user.first_name)
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)], notices)


def new_report(ctx: Context) -> NewReport:
    """Turn the confirmed draft into a report to store."""
    d = ctx.draft
    service = ctx.municipality.service_for(d["category"])
    photos = tuple(
        NewPhoto(p["path"], p["sha256"], p["channel"], p["file_id"]) for p in d.get("photos", [])
    )
    return NewReport(
        user_id=ctx.user.id, category=d["category"], service=service.id,
        description=d["description"], latitude=d.get("latitude"), longitude=d.get("longitude"),
        address=d.get("address"), photos=photos, sla_hours=service.sla_hours,
        anonymous=bool(d.get("anonymous")), voice=d.get("voice"),
    )  # fmt: skip


async def choose_edit(ctx: Context, choice: EditPart) -> Step | None:
    """Jump to the part the resident wants to change."""
    targets = {"category": CATEGORY, "description": DESCRIPTION,
               "photos": PHOTOS, "location": LOCATION}  # fmt: skip
    if choice.part == "back":
        return _back_to_summary(ctx, ctx.draft)
    target = targets.get(choice.part)
    if target is None:
        return None
    draft = dict(ctx.draft)
    if target == PHOTOS:
        draft["photos"] = []
    ctx.draft = draft
    return Step(target, draft, PROMPTS[target](ctx))


async def geocode_typed(deps: Deps, event: Inbound) -> Lookup | None:
    """Look up a typed address (one that could be one) before the transaction."""
    if not isinstance(event, Text) or not 3 <= len(event.text.strip()) <= MAX_ADDRESS:
        return None
    return await _geocode(deps, event.text.strip())


async def name_the_place(deps: Deps, event: Inbound) -> Lookup | None:
    """The address of a shared location, before the transaction."""
    if not isinstance(event, Location) or not _plausible(event.latitude, event.longitude):
        return None
    address = await deps.geocoder.reverse(event.latitude, event.longitude)
    return Lookup("found" if address else "not_found", {"address": address})


def _plausible(latitude: float, longitude: float) -> bool:
    return (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    )


async def _geocode(deps: Deps, query: str) -> Lookup:
    try:
        place = await deps.geocoder.geocode(query)
    except GeocoderUnavailableError:
        return Lookup("unavailable")
    if place is None:
        return Lookup("not_found")
    return Lookup(
        "found",
        {"latitude": place.latitude, "longitude": place.longitude, "address": place.address},
    )


# Quick report: a photo, a location or a voice note from the main menu (or from a state with no
# use for it) starts a report with it in the draft; the steps then ask only for what is missing.


async def start_with_photo(ctx: Context, event: Photo) -> Step:
    """Begin a report with the photo (and its caption as the description)."""
    started = await start_report(ctx)
    if started.state != CATEGORY:
        return started
    ctx.state, ctx.draft = CATEGORY, started.draft
    return await add_photo(ctx, event)


async def start_with_location(ctx: Context, event: Location) -> Step:
    """Begin a report at the shared place, if it lies within the municipality."""
    refusal = check_location(ctx, event.latitude, event.longitude)
    if refusal:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, refusal)])
    started = await start_report(ctx)
    if started.state != CATEGORY:
        return started
    ctx.state, ctx.draft = CATEGORY, started.draft
    return await note_location(ctx, event)


async def start_with_voice(ctx: Context, event: Voice) -> Step:
    """Begin a report with the voice note (saved before the transaction) as its description."""
    del event
    path = saved_voice(ctx)
    if path is None:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, refusal(ctx))])
    started = await start_report(ctx)
    if started.state != CATEGORY:
        return started
    taken = Reply(ctx.t.gettext("🎤 Your voice message is the description of a new report."))
    draft = {**started.draft, "description": "", "voice": path}
    return Step(CATEGORY, draft, [taken, *started.replies])


EARLY_PHOTO = (CATEGORY, DESCRIPTION, LOCATION, SUMMARY)  # PHOTOS asks for them anyway
EARLY_LOCATION = (CATEGORY, DESCRIPTION, PHOTOS)
QUICK_STEPS: dict[tuple[ReportState, Kind], StepFn] = {
    **{(state, Photo): add_photo for state in EARLY_PHOTO},
    **{(state, Location): note_location for state in EARLY_LOCATION},
}
QUICK_LOOK_UPS: dict[tuple[ReportState, Kind], LookUpFn] = {
    **{(state, Photo): save_photo for state in EARLY_PHOTO},
    **{(state, Location): name_the_place for state in EARLY_LOCATION},
}


def in_progress(ctx: Context) -> list[Reply]:
    """Remind a resident of the report they are writing, and ask its question again."""
    text = ctx.t.gettext(
        "You have a report in progress. Continue below, or send /cancel to drop it."
    )
    return [Reply(text), *PROMPTS[ReportState(ctx.state)](ctx)]


def cancel_report(ctx: Context) -> Step:
    """/cancel during a report: the draft is dropped (the location keyboard taken away)."""
    text = ctx.t.gettext("The report was cancelled.")
    return Step(MenuState.MAIN, {}, [Reply(text, RemoveKeyboard()), menu_reply(ctx)])


FLOW = Flow(
    name="report",
    states=ReportState,
    steps={
        (CATEGORY, Category): choose_category,
        (DESCRIPTION, Text): describe,
        (DESCRIPTION, Voice): describe_by_voice,
        (PHOTOS, Photo): add_photo,
        (PHOTOS, PhotosDone): finish_photos,
        (LOCATION, Location): share_location,
        (ADDRESS, Location): share_location,
        (LOCATION, Text): type_address,
        (ADDRESS, Text): type_address,
        (ADDRESS, AddressAnswer): confirm_address,
        (SUMMARY, SummaryAction): decide_summary,
        (SUMMARY, ShareName): share_name,
        (EDIT, EditPart): choose_edit,
        **QUICK_STEPS,
        (SIMILAR, SameProblem): same_problem,
        (SIMILAR, NewProblem): not_the_same,
    },
    hints={
        CATEGORY: N_("Please choose the kind of problem with one of the buttons."),
        DESCRIPTION: N_("Please describe the problem in a text message."),
        PHOTOS: N_("Please send a photo of the problem, or press the button to go on without one."),
        LOCATION: N_("Please share the location, or type the address as text."),
        ADDRESS: N_("Please answer with the buttons, or type another address."),
        SUMMARY: N_("Please confirm, edit or cancel the report with the buttons."),
        EDIT: N_("Please choose what you want to change with the buttons."),
        SIMILAR: N_("Please press the report that is your problem, or No, a new one."),
    },
    prompts=PROMPTS,
    entries=(Entry(N_("📝 Report a problem"), Menu("report"), start_report, order=10),),
    reads_ahead=(RECENT_STARTS, NEXT_ID, NEXT_SEQ),
    look_ups={
        (PHOTOS, Photo): save_photo,
        (DESCRIPTION, Voice): save_voice,
        (LOCATION, Text): geocode_typed,
        (ADDRESS, Text): geocode_typed,
        (LOCATION, Location): name_the_place,
        (ADDRESS, Location): name_the_place,
        **QUICK_LOOK_UPS,
    },
    starts={
        Photo: Start(start_with_photo, save_photo),
        Location: Start(start_with_location, name_the_place),
        Voice: Start(start_with_voice, save_voice),
    },
    typed={DESCRIPTION: Typed()},
    keeps=frozenset(ReportState),
    guard=in_progress,
    cancel=cancel_report,
)

"""Reporting a problem: category, description, photos, location, summary, confirmation."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from geopy.distance import geodesic

from handlers.context import Context, Deps, Lookup, Step, buttons, column
from handlers.events import ButtonChoice, Inbound, Location, Photo, Reply, Text
from handlers.menu import MENU_STATE, menu_reply
from handlers.municipality import CATEGORY_IDS
from handlers.notices import new_report_notices
from handlers.ports import GeocoderUnavailableError
from handlers.texts import category_name
from storage import reports
from storage.photos import ImageTooLargeError, InvalidImageError
from storage.reports import NewPhoto, NewReport

CATEGORY = "report:category"
DESCRIPTION = "report:description"
PHOTOS = "report:photos"
LOCATION = "report:location"
ADDRESS = "report:address"
SUMMARY = "report:summary"
EDIT = "report:edit"

MIN_DESCRIPTION, MAX_DESCRIPTION = 3, 4000
MAX_PHOTOS = 3
MAX_ADDRESS = 300


async def start_report(ctx: Context) -> Step:
    """Begin a new draft, unless the resident has started too many reports this hour."""
    _ = ctx.t.gettext
    limit = ctx.municipality.reports_per_hour
    if await reports.starts_since(ctx.conn, ctx.user.id, ctx.now - timedelta(hours=1)) >= limit:
        text = _(
            "You have started {limit} reports in the last hour. Please wait a while before"
            " starting another one.",
            limit=limit,
        )
        return Step(MENU_STATE, {}, [menu_reply(ctx, text)])
    await reports.record_start(ctx.conn, ctx.user.id, ctx.now)
    return Step(CATEGORY, {}, ask_category(ctx))


def ask_category(ctx: Context) -> list[Reply]:
    """Offer the categories."""
    pairs = [(category_name(ctx.t, cid), f"cat:{cid}") for cid in CATEGORY_IDS]
    return [Reply(ctx.t.gettext("What kind of problem is it?"), column(pairs))]


def ask_description(ctx: Context) -> list[Reply]:
    """Ask for the description."""
    return [Reply(ctx.t.gettext("Describe the problem in a few words: what is wrong and where."))]


def ask_photos(ctx: Context) -> list[Reply]:
    """Ask for photos, with Done once there is one and Skip before."""
    _ = ctx.t.gettext
    count = len(ctx.draft.get("photos", []))
    if count:
        label, data = _("✅ Done"), "photos:done"
    else:
        label, data = _("⏭ Skip"), "photos:skip"
    text = _(
        "Send up to {max} photos of the problem, one by one, or skip this step.", max=MAX_PHOTOS
    )
    return [Reply(text, buttons([(label, data)]))]


def ask_location(ctx: Context) -> list[Reply]:
    """Ask for the location: a shared pin or a typed address."""
    _ = ctx.t.gettext
    text = _(
        "Where is the problem? Share the location with the button below, or type the address"
        " (street and number)."
    )
    return [Reply(text, keyboard="location", keyboard_label=_("📍 Send my location"))]


def location_received(ctx: Context) -> Reply:
    """Acknowledge the location and take the location keyboard away."""
    return Reply(ctx.t.gettext("📍 Location received."), keyboard="remove")


def ask_address_confirmation(ctx: Context) -> list[Reply]:
    """Show the geocoded address back for confirmation."""
    _ = ctx.t.gettext
    place = ctx.draft.get("pending", {})
    return [
        Reply(
            _("Is this the place?\n{address}", address=place.get("address", "")),
            buttons([(_("Yes"), "addr:yes"), (_("No, type again"), "addr:no")]),
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
        description=d.get("description", ""),
        photos=len(d.get("photos", [])),
        location=location_text(ctx, d),
    )
    if d.get("anonymous"):
        text += "\n" + _("Your name is not shown to the municipal staff.")
        privacy = (_("👤 Show my first name"), "sum:named")
    else:
        privacy = (_("🙈 Send without my name"), "sum:anon")
    keys = buttons(
        [(_("✅ Confirm"), "sum:confirm")],
        [(_("✏️ Edit"), "sum:edit"), (_("✖️ Cancel"), "sum:cancel")],
        [privacy],
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
    pairs = [
        (_("Category"), "edit:category"),
        (_("Description"), "edit:description"),
        (_("Photos"), "edit:photos"),
        (_("Location"), "edit:location"),
        (_("↩️ Back to the summary"), "edit:back"),
    ]
    return [Reply(_("What would you like to change?"), column(pairs))]


PROMPTS = {
    CATEGORY: ask_category,
    DESCRIPTION: ask_description,
    PHOTOS: ask_photos,
    LOCATION: ask_location,
    ADDRESS: ask_address_confirmation,
    SUMMARY: summary,
    EDIT: ask_edit,
}


def _next(ctx: Context, draft: dict[str, Any], state: str, before: tuple[Reply, ...] = ()) -> Step:
    """Go to ``state``, or back to the summary when the resident is editing one part."""
    target = SUMMARY if draft.get("editing") else state
    ctx.draft = draft
    return Step(target, draft, [*before, *PROMPTS[target](ctx)])


def choose_category(ctx: Context, event: ButtonChoice) -> Step | None:
    """Take the category."""
    category = event.data.removeprefix("cat:")
    if not event.data.startswith("cat:") or category not in ctx.municipality.categories:
        return None
    return _next(ctx, {**ctx.draft, "category": category}, DESCRIPTION)


def describe(ctx: Context, event: Text) -> Step:
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
    return _next(ctx, {**ctx.draft, "description": text}, PHOTOS)


def add_photo(ctx: Context, event: Photo) -> Step:
    """Attach a photo that was saved before the transaction, or say why it was refused."""
    _ = ctx.t.gettext
    lookup = ctx.lookup or Lookup("invalid")
    if lookup.outcome != "saved":
        refusal = (
            _("That file is larger than 10 MB. Please send a smaller photo.")
            if lookup.outcome == "too_large"
            else _("That file is not a picture I can read. Please send a photo (JPEG or PNG).")
        )
        return Step(PHOTOS, ctx.draft, [Reply(refusal), *ask_photos(ctx)])
    photo = {**lookup.data, "channel": event.sender.channel, "file_id": event.file_id}
    photos = [*ctx.draft.get("photos", []), photo][:MAX_PHOTOS]
    added = Reply(_("Photo {n} of {max} added.", n=len(photos), max=MAX_PHOTOS))
    draft = {**ctx.draft, "photos": photos}
    if len(photos) < MAX_PHOTOS:
        ctx.draft = draft
        return Step(PHOTOS, draft, [added, *ask_photos(ctx)])
    return _next(ctx, draft, LOCATION, (added,))


def finish_photos(ctx: Context, event: ButtonChoice) -> Step | None:
    """Move on from the photos."""
    if event.data not in ("photos:done", "photos:skip"):
        return None
    return _next(ctx, ctx.draft, LOCATION)


def _back_to_summary(ctx: Context, draft: dict[str, Any]) -> Step:
    ctx.draft = draft
    return Step(SUMMARY, draft, summary(ctx))


def share_location(ctx: Context, event: Location) -> Step:
    """Take a shared location if it lies within the municipality."""
    refusal = check_location(ctx, event.latitude, event.longitude)
    if refusal:
        return Step(ctx.state, ctx.draft, [Reply(refusal), *ask_location(ctx)])
    address = ctx.lookup.data.get("address") if ctx.lookup else None
    draft = {**ctx.draft, "latitude": event.latitude, "longitude": event.longitude}
    draft["address"] = address or event.title or None
    draft.pop("pending", None)
    ctx.draft = draft
    return Step(SUMMARY, draft, [location_received(ctx), *summary(ctx)])


def check_location(ctx: Context, latitude: float, longitude: float) -> str | None:
    """Return why a point cannot be accepted, or None when it lies within the municipality."""
    _ = ctx.t.gettext
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or (
        latitude == 0 and longitude == 0
    ):
        return _("That location is not valid. Please share the place of the problem again.")
    m = ctx.municipality
    km = geodesic((m.center_lat, m.center_lon), (latitude, longitude)).km
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


def type_address(ctx: Context, event: Text) -> Step:
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
            keyboard="remove",
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


def confirm_address(ctx: Context, event: ButtonChoice) -> Step | None:
    """Accept or refuse the address the geocoder found."""
    pending = ctx.draft.get("pending")
    if event.data not in ("addr:yes", "addr:no") or not pending:
        return None
    draft = {k: v for k, v in ctx.draft.items() if k != "pending"}
    if event.data == "addr:no":
        ctx.draft = draft
        return Step(LOCATION, draft, ask_location(ctx))
    draft.update(
        latitude=pending["latitude"], longitude=pending["longitude"], address=pending["address"]
    )
    ctx.draft = draft
    return Step(SUMMARY, draft, [location_received(ctx), *summary(ctx)])


async def decide_summary(ctx: Context, event: ButtonChoice) -> Step | None:
    """Confirm, edit or cancel the report."""
    _ = ctx.t.gettext
    if event.data == "sum:cancel":
        return Step(MENU_STATE, {}, [menu_reply(ctx, _("The report was cancelled."))])
    if event.data == "sum:edit":
        ctx.draft = {**ctx.draft, "editing": True}
        return Step(EDIT, ctx.draft, ask_edit(ctx))
    if event.data in ("sum:anon", "sum:named"):
        ctx.draft = {**ctx.draft, "anonymous": event.data == "sum:anon"}
        return Step(SUMMARY, ctx.draft, summary(ctx))
    if event.data != "sum:confirm":
        return None
    ref = await reports.create_report(ctx.conn, ctx.municipality.code, new_report(ctx), ctx.now)
    text = _(
        "Thank you! Your report is registered under the number {ref}. You will get a message"
        " here whenever its status changes; you can also find it under My reports.",
        ref=ref,
    )
    stored = await reports.find_by_ref(ctx.conn, ref)
    assert stored is not None  # noqa: S101 - it was just stored
    notices = new_report_notices(ctx.municipality, stored, ctx.user.first_name)
    return Step(MENU_STATE, {}, [menu_reply(ctx, text)], notices)


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
        anonymous=bool(d.get("anonymous")),
    )  # fmt: skip


def choose_edit(ctx: Context, event: ButtonChoice) -> Step | None:
    """Jump to the part the resident wants to change."""
    targets = {"edit:category": CATEGORY, "edit:description": DESCRIPTION,
               "edit:photos": PHOTOS, "edit:location": LOCATION}  # fmt: skip
    if event.data == "edit:back":
        return _back_to_summary(ctx, ctx.draft)
    target = targets.get(event.data)
    if target is None:
        return None
    draft = dict(ctx.draft)
    if target == PHOTOS:
        draft["photos"] = []
    ctx.draft = draft
    return Step(target, draft, PROMPTS[target](ctx))


async def look_up(deps: Deps, state: str, event: Inbound) -> Lookup | None:
    """Do the slow work an event needs before the transaction: save a photo, geocode an address."""
    match event:
        case Photo() if state == PHOTOS or state.startswith(
            ("comment:", "ccomment:", "staff:fixphoto:")
        ):
            return await _save_photo(deps, event)
        case Text() if state in (LOCATION, ADDRESS) and 3 <= len(event.text.strip()) <= MAX_ADDRESS:
            return await _geocode(deps, event.text.strip())
        case Location() if state in (LOCATION, ADDRESS):
            address = await deps.geocoder.reverse(event.latitude, event.longitude)
            return Lookup("found" if address else "not_found", {"address": address})
    return None


async def _save_photo(deps: Deps, event: Photo) -> Lookup:
    if event.content is None:
        return Lookup("too_large" if event.size > 10 * 1024 * 1024 else "invalid")
    try:
        stored = await asyncio.to_thread(deps.photos.save, event.content)
    except ImageTooLargeError:
        return Lookup("too_large")
    except InvalidImageError:
        return Lookup("invalid")
    return Lookup("saved", {"path": stored.path, "sha256": stored.sha256})


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

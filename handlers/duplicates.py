""" "Is it one of these?": open reports of the same problem near a new report's place, and
following one of them ("me too") instead of filing another report.

A resident is shown what is public of another resident's report (the open data publishes it
too): its number, status, age, distance, a shortened description and its first photo; never the
reporter's name, contacts, comments or answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from handlers.context import Context, column
from handlers.events import Outgoing, Reply
from handlers.flow import ButtonData
from handlers.i18n import Translator, translator
from handlers.notices import card_update, shorten, to_service
from handlers.texts import status_name
from handlers.voice import voice_line
from storage import duplicates, reports
from storage.reports import Report

SHOWN_DESCRIPTION = 200  # enough to recognise the problem; the whole text stays the reporter's
MAX_SHOWN = 3


@dataclass(frozen=True, slots=True)
class SameProblem(ButtonData):
    """The resident's problem is this open report."""

    prefix = "same"
    report_id: int


@dataclass(frozen=True, slots=True)
class NewProblem(ButtonData):
    """None of the offered reports: a new one (``new``)."""

    prefix = "notsame"
    answer: str


async def find_similar(ctx: Context, draft: dict[str, Any]) -> list[duplicates.Nearby]:
    """Open reports of the draft's category near its point (none without both, or radius 0)."""
    category = ctx.municipality.categories.get(str(draft.get("category", "")))
    latitude, longitude = draft.get("latitude"), draft.get("longitude")
    if category is None or latitude is None or longitude is None:
        return []
    if category.duplicate_radius_m <= 0:
        return []
    return await duplicates.nearby_open(
        ctx.conn, category.id, latitude, longitude, category.duplicate_radius_m, MAX_SHOWN
    )


def offered(found: list[duplicates.Nearby]) -> list[dict[str, Any]]:
    """What the draft keeps of the offer: the ids that may be pressed, and their labels."""
    return [{"id": n.id, "ref": n.ref, "metres": round(n.metres)} for n in found]


def candidate(t: Translator, n: duplicates.Nearby, now: datetime) -> Reply:
    """One open report as a resident may see it, with its first photo."""
    text = t.gettext(
        "{ref} · {status}\n{metres} m from your place · {age}\n{description}",
        ref=n.ref,
        status=status_name(t, n.status),
        metres=round(n.metres),
        age=age(t, n.created_at, now),
        description=shorten(n.description, SHOWN_DESCRIPTION),
    )
    return Reply(text, photos=(n.photo,) if n.photo else ())


def age(t: Translator, created_at: datetime, now: datetime) -> str:
    """How long ago a report was made, in words."""
    hours = int((now - created_at).total_seconds() // 3600)
    if hours < 1:
        return t.gettext("reported less than an hour ago")
    if hours < 24:
        return t.ngettext("reported {n} hour ago", "reported {n} hours ago", hours)
    days = hours // 24
    return t.ngettext("reported {n} day ago", "reported {n} days ago", days)


def ask_which(ctx: Context) -> list[Reply]:
    """ "Is it one of these?" with a button per offered report and "No, a new one"."""
    _ = ctx.t.gettext
    choices = [
        SameProblem(int(s["id"])).button(
            _("✅ Same problem: {ref} ({metres} m)", ref=s["ref"], metres=s["metres"])
        )
        for s in ctx.draft.get("similar", [])
    ]
    choices.append(NewProblem("new").button(_("➕ No, a new one")))
    text = _(
        "Is it one of these? If your problem is already reported, press its button: you will"
        " get its news, and no new report is filed."
    )
    return [Reply(text, column(choices))]


def offer(ctx: Context, found: list[duplicates.Nearby]) -> list[Reply]:
    """The open reports nearby, then the question (``ctx.draft`` already holds the offer)."""
    header = Reply(
        ctx.t.ngettext(
            "{n} open report of the same kind is near that place:",
            "{n} open reports of the same kind are near that place:",
            len(found),
        )
    )
    return [header, *(candidate(ctx.t, n, ctx.now) for n in found), *ask_which(ctx)]


def was_offered(ctx: Context, report_id: int) -> bool:
    """Whether this report was among those offered (other ids are made up or stale)."""
    return any(s.get("id") == report_id for s in ctx.draft.get("similar", []))


async def follow(ctx: Context, report: Report) -> tuple[str, list[Outgoing]]:
    """Make the resident a follower of ``report``, with what their draft holds as their part of it;
    what they are told, and the messages to the staff (their part, the updated card)."""
    _ = ctx.t.gettext
    own = report.user_id == ctx.user.id
    kept, outgoing = await contribute(ctx, report, own=own)
    if own:
        return _(
            "{ref} is your own report: you already get its news. No new report was filed.",
            ref=report.ref,
        ) + kept, outgoing
    added = await duplicates.follow(ctx.conn, report.id, ctx.user.id, ctx.now)
    text = _(
        "Thank you! You now follow {ref}: you will get its news here, and you find it under"
        " My reports. No new report was filed.",
        ref=report.ref,
    )
    if added:
        outgoing += await card_update(ctx, replace(report, followers=report.followers + 1))
    return text + kept, outgoing


async def contribute(ctx: Context, report: Report, *, own: bool) -> tuple[str, list[Outgoing]]:
    """Add the draft's description, voice note and photos to ``report``, for its staff.

    A follower's part is marked as theirs and never published (the reporter does not see it
    either: it is another resident's); on their own report it is the reporter's comment. Returns
    what the resident is told of it and the notice to the service's staff chat.
    """
    d = ctx.draft
    words = str(d.get("description") or "").strip() or None
    voice = str(d["voice"]) if d.get("voice") else None
    photos = [str(p["path"]) for p in d.get("photos", []) if isinstance(p, dict) and p.get("path")]
    if words is None and voice is None and not photos:
        return "", []
    kind, public = ("comment", True) if own else (duplicates.FOLLOWER_PART, False)
    for i, photo in enumerate(photos or [None]):
        first = i == 0
        await reports.add_event(
            ctx.conn, report.id, kind, actor_id=ctx.user.id, now=ctx.now, public=public,
            text=words if first else None, photo=photo, voice=voice if first else None,
        )  # fmt: skip
    t = translator(ctx.municipality.staff_language)
    heading = (
        t.gettext("From the resident about {ref}:", ref=report.ref)
        if own
        else t.gettext(
            "👥 From a resident who reported the same problem and now follows {ref}:",
            ref=report.ref,
        )
    )
    lines = [heading, *([words] if words else []), *([voice_line(t)] if voice else [])]
    notice = Reply("\n".join(lines), photos=tuple(photos), voice=voice or "")
    told = (
        ctx.t.gettext(
            "Your description and photos were added to {ref} for the municipal staff.",
            ref=report.ref,
        )
        if photos
        else ctx.t.gettext(
            "Your description was added to {ref} for the municipal staff.", ref=report.ref
        )
    )
    return "\n\n" + told, to_service(ctx.municipality, report.service, notice)

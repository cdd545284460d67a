"""Wiring: the database, the ports, the dispatcher and the outbox sender for one process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.charts import ChartRenderer
from bot.clock import SystemClock
from bot.dispatcher import Dispatcher
from bot.geocoder import NominatimGeocoder
from bot.outbox import OutboxSender, SendLimits
from bot.settings import Settings
from handlers.context import Deps
from handlers.events import Reply, Sender
from handlers.flow import Registry
from handlers.municipality import Municipality
from handlers.plan.config import store_file_plan
from handlers.ports import Channel, Clock, Geocoder, KeyboardPerMessage
from handlers.registry import REGISTRY
from handlers.screens import CurrentScreens
from handlers.staff.menus import command_menu
from storage import consultations, outbox, users
from storage.consultations import NewConsultation
from storage.db import Database
from storage.outbox import NewMessage
from storage.photos import PhotoStore
from storage.voices import VoiceStore


@dataclass(slots=True)
class App:
    """The running parts of the bot."""

    db: Database
    deps: Deps
    dispatcher: Dispatcher
    sender: OutboxSender


def staff_role(municipality: Municipality, sender: Sender) -> tuple[str, tuple[str, ...]]:
    """The role and services the municipality file gives this user, or ``resident``."""
    for member in municipality.staff:
        if member.messenger == sender.channel and member.user_id == sender.user_id:
            return member.role, member.services
        # The console's --staff acts as a staff member of the file under a prefixed id.
        if sender.channel == "console" and sender.user_id == f"staff:{member.user_id}":
            return member.role, member.services
    return "resident", ()


async def sync_staff(
    db: Database, municipality: Municipality, registry: Registry, now: datetime
) -> None:
    """Give users the roles the file gives them now; staff taken out of it become residents.

    Staff added with /staff add keep their role (they are in ``staff_members``). Those demoted
    lose what they were doing in a staff-only flow (a prepared announcement never goes out), and
    their chat's own command menu (the staff's menus are set after this, at start-up).
    """
    # The console's --staff acts as a staff member of the file under a prefixed id.
    identities = [
        (ident, m) for m in municipality.staff
        for ident in ((m.messenger, m.user_id), ("console", f"staff:{m.user_id}"))
    ]  # fmt: skip
    async with db.transaction() as conn:
        demoted = await users.demote_staff_except(
            conn, {ident for ident, _ in identities}, registry.staff_states(), registry.home
        )
        no_menu = Reply("", menu=command_menu(registry, "resident", municipality.staff_language))
        await outbox.enqueue(
            conn, [NewMessage(ch, chat, None, no_menu.to_payload()) for ch, chat in demoted], now
        )
        for (channel, external_id), m in identities:
            await users.set_role(conn, channel, external_id, m.role, m.services)


async def sync_consultations(db: Database, municipality: Municipality, clock: Clock) -> None:
    """Store the consultations of the municipality file (once each, by key)."""
    async with db.transaction() as conn:
        for c in municipality.consultations:
            entry = NewConsultation(
                c.title, c.description, c.starts_at, c.ends_at, c.place, c.link, key=c.key
            )
            await consultations.create(conn, entry, None, clock.now())
        await store_file_plan(conn, municipality.plan, clock.now())


@asynccontextmanager
async def build_app(
    settings: Settings,
    municipality: Municipality,
    channels: Mapping[str, Channel],
    *,
    clock: Clock | None = None,
    geocoder: Geocoder | None = None,
    limits: SendLimits | None = None,
) -> AsyncIterator[App]:
    """Open the database and wire the parts; close everything on the way out."""
    clock = clock or SystemClock()
    db = await Database.open(settings.database)
    await sync_staff(db, municipality, REGISTRY, clock.now())
    await sync_consultations(db, municipality, clock)
    nominatim = None
    if geocoder is None:
        nominatim = NominatimGeocoder(
            db, municipality, clock,
            url=settings.geocoder_url, user_agent=settings.geocoder_user_agent,
            timeout=settings.geocoder_timeout,
        )  # fmt: skip
        geocoder = nominatim
    deps = Deps(
        municipality, clock, geocoder, PhotoStore(settings.data_dir), REGISTRY,
        VoiceStore(settings.data_dir), settings.base_url,
    )  # fmt: skip
    screens = CurrentScreens(db.reader, deps)
    for channel in channels.values():
        if isinstance(channel, KeyboardPerMessage):
            channel.screens = screens
    sender = OutboxSender(
        db, channels, clock, limits=limits,
        give_up_after=timedelta(hours=settings.outbox_give_up_hours),
        charts=ChartRenderer(settings.data_dir),
    )  # fmt: skip
    dispatcher = Dispatcher(
        db, deps, role_of=lambda s: staff_role(municipality, s), on_outbox=sender.wake
    )
    try:
        yield App(db, deps, dispatcher, sender)
    finally:
        if nominatim is not None:
            await nominatim.close()
        await db.close()

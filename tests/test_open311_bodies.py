"""Reports filed through the Open311 API in a category of an outside body behave as from chat: a
forwarding body's are handed over and e-mailed to it (real SMTP on loopback, aiosmtpd), never
carded to the municipal staff; the client is told who is responsible; a body that takes no
forwarded reports gets none, and nothing is filed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiosmtpd.controller import Controller

from bot import runtime
from bot.app import App, build_app
from bot.channels.email import EmailChannel, SmtpSettings
from bot.settings import Settings
from bot.web import open311
from handlers.municipality import Municipality
from handlers.ports import Channel
from storage import reports
from storage.sql import fetch_all
from tests.conftest import REF, free_port
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.test_bodies import EDS_MAIL, LESKOVAC, Inbox, readable
from tests.test_open311 import KEY, api_settings

EDS_SR = f"Електродистрибуција Србије — {LESKOVAC}"
POWER_LINE = {
    "api_key": KEY, "service_code": "power_supply", "lat": "42.9661", "long": "22.1290",
    "description": "A power line hangs low over the street", "first_name": "Jovana",
    "email": "jovana@example.org", "phone": "0641234567",
}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@dataclass
class Api:
    app: App
    staff_chats: CollectingChannel
    inbox: Inbox
    root: str
    session: aiohttp.ClientSession

    async def post(self, **form: str) -> tuple[int, list[dict[str, str]]]:
        async with self.session.post(f"{self.root}/requests.json", data=form) as r:
            return r.status, json.loads(await r.text())

    async def get(self, path: str) -> list[dict[str, str]]:
        async with self.session.get(self.root + path) as r:
            assert r.status == 200
            return list(json.loads(await r.text()))


@pytest.fixture
async def api(
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
    smtp: tuple[Inbox, int],
) -> AsyncIterator[Api]:
    inbox, port = smtp
    mail = EmailChannel(
        SmtpSettings("127.0.0.1", port, "bot@vlasotince.example.org", timeout=3), settings.data_dir
    )
    staff_chats = CollectingChannel("telegram")
    channels: dict[str, Channel] = {"telegram": staff_chats, "email": mail}
    async with build_app(settings, municipality, channels, clock=clock, geocoder=geocoder) as app:
        routes = runtime.web_app()
        open311.add_routes(routes, settings, app)
        runner = await runtime.serve(routes, settings)
        try:
            async with aiohttp.ClientSession() as session:
                root = f"http://127.0.0.1:{settings.http_port}/open311/v2"
                yield Api(app, staff_chats, inbox, root, session)
        finally:
            await runner.cleanup()


async def test_a_power_line_filed_through_the_api_is_forwarded_to_the_distributor(
    api: Api,
) -> None:
    status, [answer] = await api.post(**POWER_LINE)
    assert status == 201, answer
    assert answer["service_request_id"] == REF
    notice = answer["service_notice"]
    assert f"под бројем {REF} и прослеђена надлежнима: {EDS_SR}." in notice
    assert "☎️ 0800 360 300 · ✉️ kvarovi.leskovac@eds.example.org" in notice
    await api.app.sender.drain()
    # To the distributor, by e-mail: the facts, and nothing of the person the client named.
    [message] = api.inbox.messages
    assert message["To"] == EDS_MAIL
    text = readable(message)
    assert REF in text
    assert "A power line hangs low over the street" in text
    assert "openstreetmap.org/?mlat=42.966100&mlon=22.129000" in text
    for personal in ("Jovana", "jovana@example.org", "0641234567"):
        assert personal not in text
    # Not the municipality's job: no card in any staff chat, and no mail to its service.
    assert api.staff_chats.sent == []
    stored = await reports.find_by_ref(api.app.db.conn, REF)
    assert stored is not None
    assert stored.status == "handed_off"
    assert [(e.kind, e.new_status, e.text) for e in stored.events] == [
        ("created", "new", None),
        ("status", "handed_off", f"Прослеђено надлежнима: {EDS_SR}"),
    ]
    source = await fetch_all(api.app.db.conn, "SELECT source FROM reports")
    assert [r[0] for r in source] == ["open311:fixmystreet"]
    [published] = await api.get(f"/requests/{REF}.json")
    assert published["status"] == "closed"
    assert published["status_notes"] == f"Прослеђено надлежнима: {EDS_SR}"


async def test_a_body_that_takes_no_forwarded_reports_is_named_and_nothing_is_filed(
    api: Api,
) -> None:
    status, [error] = await api.post(
        **{**POWER_LINE, "service_code": "abandoned_vehicles", "description": "A burnt-out car"}
    )
    assert status == 400
    assert error["code"] == 400  # type: ignore[comparison-overlap]
    assert "not the municipality's job" in error["description"]
    assert "Leskovac Police Department, Vlasotince police station" in error["description"]
    assert "☎️ 192" in error["description"]
    assert await fetch_all(api.app.db.conn, "SELECT id FROM reports") == []
    await api.app.sender.drain()
    assert api.inbox.messages == []


async def test_a_state_road_report_goes_on_with_the_note_on_state_roads(api: Api) -> None:
    status, [answer] = await api.post(
        **{**POWER_LINE, "service_code": "road_damage", "description": "A deep pothole"}
    )
    assert status == 201, answer
    assert "државни путеви" in answer["service_notice"]
    assert "ЈП „Путеви Србије“" in answer["service_notice"]
    assert "011 30 40 700" in answer["service_notice"]
    await api.app.sender.drain()
    stored = await reports.find_by_ref(api.app.db.conn, REF)
    assert stored is not None
    assert stored.status == "new"  # the municipality's: mailed to its roads office (no chat)
    [message] = api.inbox.messages
    assert message["To"] == "putevi@vlasotince.example.org"
    assert "Jovana (fixmystreet, Open311)" in readable(message)


async def test_the_services_say_which_are_an_outside_body_s(api: Api) -> None:
    listed = {s["service_code"]: s for s in await api.get("/services.json")}
    power = listed["power_supply"]["description"]
    assert power.startswith("Електрична мрежа и нестанак струје\n\n")
    assert f"надлежно је: {EDS_SR} (☎️ 0800 360 300" in power
    assert "Пријаве поднете овде прослеђујемо им е-поштом." in power
    police = listed["abandoned_vehicles"]["description"]
    assert "Полицијска станица Власотинце (☎️ 192" in police
    assert "Овакве пријаве се овде не примају" in police
    assert "државни путеви" in listed["road_damage"]["description"]
    water = listed["water_sewage"]
    assert water["description"] == water["service_name"]  # the municipality's own: its name

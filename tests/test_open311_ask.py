"""/ask on a report filed through the Open311 API: its reporter is in no chat, so the question
goes by e-mail (a real SMTP server, aiosmtpd, on loopback) when the client sent an address with
the person's consent, and the operator is told plainly when it cannot reach them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bot.app import build_app
from bot.channels.email import EmailChannel, SmtpSettings
from bot.settings import Settings
from handlers.municipality import Municipality, StaffMember
from handlers.ports import Channel
from storage.sql import fetch_all
from tests.conftest import REF, Bot, Office, Press, free_port
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.test_email import WATER_MAIL, Inbox
from tests.test_open311 import KEY, Server, api_settings, serving

JOVANA = "jovana@example.org"
SECOND = "VLA-2026-00002"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port(inbox: Inbox) -> Iterator[int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
async def office(
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
    smtp_port: int,
) -> AsyncIterator[Office]:
    """The office of tests/conftest.py, with its e-mail sent to the real SMTP server."""
    staff = (StaffMember("test", "vesna", "Весна", "operator", ("water",)),)
    mail = EmailChannel(
        SmtpSettings("127.0.0.1", smtp_port, "moja-opstina@vlasotince.example.org", timeout=3),
        settings.data_dir,
    )
    residents, staff_chats = CollectingChannel("test"), CollectingChannel("telegram")
    channels: dict[str, Channel] = {"test": residents, "telegram": staff_chats, "email": mail}
    m = replace(municipality, staff=staff)
    async with build_app(settings, m, channels, clock=clock, geocoder=geocoder) as app:
        office = Office(Bot(app, residents, clock), staff_chats, CollectingChannel("email"))
        await office.bot.say("vesna", "/start")
        await office.bot.say("vesna", Press("lang:en"))
        yield office


@pytest.fixture
async def server(office: Office, settings: Settings) -> AsyncIterator[Server]:
    async with serving(office, settings) as served:
        yield served


async def file_leak(server: Server, **contact: str) -> str:
    status, body = await server.post(
        api_key=KEY, service_code="water_sewage", lat="42.966", long="22.129",
        description="Water is gushing from the pipe", first_name="Jovana", **contact,
    )  # fmt: skip
    assert status == 201, body
    return str(json.loads(body)[0]["service_request_id"])


async def questions(server: Server, ref: str) -> list[str]:
    rows = await fetch_all(
        server.office.bot.app.db.conn,
        "SELECT e.text FROM report_events e JOIN reports r ON r.id = e.report_id"
        " WHERE r.ref = ? AND e.kind = 'question'",
        (ref,),
    )
    return [str(r[0]) for r in rows]


async def test_the_question_is_mailed_when_the_reporter_agreed(
    server: Server, inbox: Inbox
) -> None:
    assert await file_leak(server, email=JOVANA, email_consent="true") == REF
    said = await server.office.staff("vesna", f"/ask {REF} Which entrance of the building?")
    assert said == [
        f"{REF} was filed through fixmystreet (Open311): the question was sent by e-mail to its"
        " reporter. Their answer comes by e-mail, not in this chat."
    ]
    await server.office.bot.app.sender.drain()
    to_jovana = [m for m in inbox.messages if m["To"] == JOVANA]
    assert [m["To"] for m in inbox.messages if m["To"] != JOVANA] == [WATER_MAIL]  # the card
    assert len(to_jovana) == 1
    assert REF in str(to_jovana[0]["Subject"])
    body = to_jovana[0].get_body(("plain",))
    assert body is not None
    assert "Which entrance of the building?" in body.get_content()
    assert await questions(server, REF) == ["Which entrance of the building?"]


async def test_without_consent_or_address_the_operator_is_told_it_cannot_reach_them(
    server: Server, inbox: Inbox
) -> None:
    assert await file_leak(server, email=JOVANA) == REF  # an address, but no consent
    assert await file_leak(server) == SECOND  # no address at all
    for ref in (REF, SECOND):
        said = await server.office.staff("vesna", f"/ask {ref} Which entrance?")
        assert said == [
            f"{ref} was filed through fixmystreet (Open311) without an e-mail address its"
            " reporter agreed to be written to: the question cannot reach them. Nothing was sent."
        ]
        assert await questions(server, ref) == []
    await server.office.bot.app.sender.drain()
    assert [m["To"] for m in inbox.messages] == [WATER_MAIL, WATER_MAIL]


async def test_an_address_that_is_not_one_is_refused(server: Server) -> None:
    for address in ("jovana", "a@b@c.org", "jovana@example.org\r\nBcc: all@example.org"):
        status, body = await server.post(
            api_key=KEY, service_code="water_sewage", lat="42.966", long="22.129",
            description="Water is gushing", email=address, email_consent="true",
        )  # fmt: skip
        assert status == 400, address
        assert json.loads(body)[0]["description"] == "email: not an e-mail address"

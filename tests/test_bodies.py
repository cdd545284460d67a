"""Not the municipality's job: outside bodies of the municipality file, told to residents at once,
reports forwarded to them by e-mail (real SMTP on loopback), and staff's /handoff."""

from __future__ import annotations

import email
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller

from bot import runtime
from bot.app import build_app
from bot.channels.email import EmailChannel, SmtpSettings
from bot.settings import Settings
from bot.web import open311
from handlers.body_config import Body
from handlers.i18n import translator
from handlers.municipality import Municipality, MunicipalityFileError, load_municipality
from handlers.ports import Channel
from storage import reports
from tests.conftest import (
    REF,
    VLASOTINCE,
    WATER_CHAT,
    Bot,
    DialogInput,
    Office,
    Picture,
    Pin,
    Press,
    free_port,
    jpeg,
)
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder

ROOT = Path(__file__).resolve().parent.parent
EDS = "Elektrodistribucija Srbije (the electricity distributor), Leskovac branch"
EDS_MAIL = "kvarovi.leskovac@eds.example.org"
WATER_BODY_MAIL = "kvarovi@vodovod.example.org"
ROADS_MAIL = "putevi@vlasotince.example.org"
# A regional water company, as a municipality whose water is not its own would name it.
REGIONAL_WATER = Body(
    id="vodovod", names={"sr": "ЈП „Регионални водовод“"}, phone="016 000 000",
    email=WATER_BODY_MAIL, shares=("water_sewage",), cases={"sr": "магистрални цевоводи"},
    forward=True,
)  # fmt: skip


@pytest.fixture
def municipality() -> Municipality:
    """Vlasotince with a regional water company beside the file's bodies."""
    m = load_municipality(VLASOTINCE)
    return replace(m, bodies={**m.bodies, "vodovod": REGIONAL_WATER})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The bot's settings with a free port for the Open311 server."""
    return Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "BOT_CONFIG": str(VLASOTINCE),
            "HTTP_PORT": str(free_port()),
        }
    )


def power_line_report(*consent: DialogInput) -> list[DialogInput]:
    """A resident's report of a power line hanging over a street (Elektrodistribucija's)."""
    return [
        "/start", Press("lang:en"), Press("menu:report"), Press("cat:power_supply"),
        "A power line hangs low over the street", Picture(jpeg("green")), Press("photos:done"),
        Pin(42.9661, 22.1290), *consent, Press("sum:confirm"),
    ]  # fmt: skip


# The municipality files.


def test_every_file_names_the_outside_bodies() -> None:
    for path in sorted((ROOT / "config").glob("*.toml")):
        m = load_municipality(path)
        assert set(m.bodies) == {"eds", "putevi", "mup"}, path.stem
        assert m.body_for("power_supply") == m.bodies["eds"]
        assert m.body_for("abandoned_vehicles") == m.bodies["mup"]
        assert m.bodies_sharing("road_damage") == [m.bodies["putevi"]]
        assert m.bodies["eds"].forwards
        assert not m.bodies["mup"].forwards
        assert m.body_for("garbage") is None


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('categories = ["power_supply"]', 'categories = ["power"]', "unknown category 'power'"),
        ('categories = ["abandoned_vehicles"]', 'categories = ["power_supply"]', "more than one"),
        (f'email = "{EDS_MAIL}"', 'email = "eds"', "invalid email"),
        (f'email = "{EDS_MAIL}"   # EXAMPLE\n', "", "'forward' needs an email"),
        ('cases = "државни', 'casus = "државни', "unknown key 'casus'"),
        ('id = "mup"', 'id = "water"', "taken by a body or a service"),
        ("forward = false", 'forward = "no"', "'forward' must be true or false"),
    ],
)
def test_a_broken_body_is_refused_with_its_problem(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    text = VLASOTINCE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "vlasotince.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(MunicipalityFileError, match=re.escape(problem)):
        load_municipality(path)


# The resident is told at once.


async def test_power_lines_are_forwarded_to_the_distributor(office: Office) -> None:
    await office.bot.play(
        "ana",
        [
            ("/start", []),
            (Press("lang:en"), []),
            (Press("menu:report"), ["[Power lines and power cuts]", "[Abandoned vehicles]"]),
            (
                Press("cat:power_supply"),
                [
                    f"This is not the municipality's job: {EDS} is responsible for it.",
                    "☎️ 0800 360 300 · ✉️ kvarovi.leskovac@eds.example.org"
                    " · 🌐 https://elektrodistribucija.rs",
                    "we forward it to them by e-mail",
                    "Describe the problem",
                ],
            ),
            ("A power line hangs low over the street", []),
            (Picture(jpeg("green")), []),
            (Press("photos:done"), []),
            (
                Pin(42.9661, 22.1290),
                [
                    f"This report is forwarded to {EDS} by e-mail: the place, the description"
                    " and the photos. Your name is not given to them.",
                    "[👤 Give them my first name]",
                ],
            ),
            (
                Press("sum:confirm"),
                [f"Your report {REF} is registered and was forwarded to {EDS}", "0800 360 300"],
            ),
        ],
    )
    stored = await reports.find_by_ref(office.bot.app.db.conn, REF)
    assert stored is not None
    assert stored.status == "handed_off"
    assert [(e.kind, e.new_status, e.text) for e in stored.events] == [
        ("created", "new", None),
        ("status", "handed_off", f"Прослеђено надлежнима: Електродистрибуција Србије — {LESKOVAC}"),
    ]
    # Not the municipality's job: no card in any staff chat, one e-mail to the distributor.
    assert office.staff_chats.sent == []
    assert [chat for chat, _ in office.mail.sent] == [EDS_MAIL]


LESKOVAC = "Огранак Електродистрибуција Лесковац"


async def test_abandoned_vehicles_are_for_the_police_and_nothing_is_filed(office: Office) -> None:
    await office.bot.play(
        "ana",
        [
            ("/start", []),
            (Press("lang:sr-Latn"), []),
            (Press("menu:report"), []),
            (
                Press("cat:abandoned_vehicles"),
                [
                    "Ovo nije u nadležnosti opštine; nadležno je: Policijska uprava u Leskovcu"
                    " — Policijska stanica Vlasotince.",
                    "☎️ 192 · 🌐 https://www.mup.gov.rs",
                    "/cancel",
                    "[Ostalo]",  # the kinds again: the draft waits for another one
                ],
            ),
            (Press("cat:other"), ["Opišite problem"]),
        ],
    )
    assert await reports.count_for_user(office.bot.app.db.conn, 1) == 0


async def test_state_roads_are_named_and_the_report_goes_on_to_the_municipality(
    office: Office,
) -> None:
    await office.bot.play(
        "mila",
        [
            (
                Press("menu:report"),
                [],
            ),
            (
                Press("cat:road_damage"),
                [
                    "Note: state roads (the main and regional roads through the municipality)"
                    " are not the municipality's job but that of JP Putevi Srbije (the public"
                    " enterprise for state roads):",
                    "☎️ 011 30 40 700",
                    "the municipality passes such reports on",
                    "Describe the problem",
                ],
            ),
            ("A deep pothole by the school", []),
            (Press("photos:skip"), []),
            (Pin(42.9661, 22.1290), []),
        ],
    )
    summary = office.bot.channel.to("mila")[-1]
    assert "forwarded" not in summary.text
    assert "bname:yes" not in [b.data for row in summary.buttons for b in row]
    await office.bot.say("mila", Press("sum:confirm"))
    stored = await reports.find_by_ref(office.bot.app.db.conn, REF)
    assert stored is not None
    assert (stored.status, stored.service) == ("new", "roads")
    assert [chat for chat, _ in office.mail.sent] == [ROADS_MAIL]


# E-mail to the body, through a real SMTP server.


class Inbox:
    """An aiosmtpd handler that keeps what arrives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(
            envelope.content, _class=EmailMessage, policy=policy.default
        )
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(unused_smtp_port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=unused_smtp_port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def unused_smtp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def mailing(
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
    unused_smtp_port: int,
) -> AsyncIterator[Bot]:
    mail = EmailChannel(
        SmtpSettings("127.0.0.1", unused_smtp_port, "bot@vlasotince.example.org", timeout=3),
        settings.data_dir,
    )
    residents = CollectingChannel("test")
    channels: dict[str, Channel] = {
        "test": residents,
        "telegram": CollectingChannel("telegram"),
        "email": mail,
    }
    async with build_app(settings, municipality, channels, clock=clock, geocoder=geocoder) as app:
        yield Bot(app, residents, clock)


def readable(message: EmailMessage) -> str:
    """The headers and the text of an e-mail (not its attachments' bytes)."""
    body = message.get_body(("plain",))
    assert body is not None
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())
    return headers + "\n" + str(body.get_content())


async def test_the_distributor_gets_the_facts_and_photos_but_no_name(
    mailing: Bot, smtp: Inbox
) -> None:
    for item in power_line_report():
        await mailing.say("ana", item)
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == EDS_MAIL
    text = readable(message)
    assert "Пријава VLA-2026-00001 (Власотинце): Електрична мрежа и нестанак струје" in text
    assert "A power line hangs low over the street" in text
    assert "openstreetmap.org/?mlat=42.966100&mlon=22.129000" in text
    assert "Грађанин није пристао да вам се саопшти његово име." in text
    assert "\nПоднета: 17. 5. 2026. 11:00\n" in text  # the municipality's language and clock
    assert "Ana" not in text
    assert "ana" not in text.lower().replace("vlasotince", "")
    photos = [p for p in message.iter_attachments() if p.get_content_type() == "image/jpeg"]
    assert len(photos) == 1


async def test_with_consent_the_distributor_gets_the_first_name(mailing: Bot, smtp: Inbox) -> None:
    consent: list[DialogInput] = [Press("bname:yes"), Press("bname:no"), Press("bname:yes")]
    replies = []
    for item in power_line_report(*consent):
        replies = await mailing.say("ana", item)
        if item == consent[0]:
            assert "Your first name is given to them too." in replies[0].text
            assert ["bname:no"] in [[b.data for b in row] for row in replies[0].buttons]
    assert "forwarded to" in replies[-1].text
    assert "Подносилац: Ana" in readable(smtp.messages[0])


# Staff hand a report over.


async def test_handoff_hands_over_tells_the_resident_and_mails_the_body(office: Office) -> None:
    await office.report_leak()
    office.mail.sent.clear()
    answer = await office.staff("vesna", f"/handoff {REF.lower()} vodovod")
    assert answer == [
        f"{REF} was handed over to JP „Regionalni vodovod“; the resident was told."
        f" It was e-mailed to {WATER_BODY_MAIL}."
    ]
    told = office.bot.channel.to("ana")[-1].text
    assert f"Your report {REF} is not the municipality's job" in told
    assert "JP „Regionalni vodovod“" in told
    assert "forwarded it to them by e-mail" in told
    assert "☎️ 016 000 000 · ✉️ kvarovi@vodovod.example.org" in told
    card = office.chat(WATER_CHAT)[-1]
    assert card.edit
    assert "ПРЕДАТО НАДЛЕЖНИМА" in card.text
    assert office.card_data() == ["st:reply:1"]
    [(to, mail)] = office.mail.sent
    assert to == WATER_BODY_MAIL
    assert "Water is gushing" in mail.text
    assert len(mail.photos) == 1
    assert "Ana" not in mail.text  # filed for the municipality: the resident agreed to no body
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert stored.status == "handed_off"
    assert stored.events[-1].text == "Прослеђено надлежнима: ЈП „Регионални водовод“"
    shown = (await office.staff("vesna", f"/show {REF}"))[0]
    assert "Прослеђено надлежнима: ЈП „Регионални водовод“" in shown
    assert await office.staff("vesna", f"/reopen {REF}") == [f"{REF} is now reopened."]


KNOWN = "Bodies of the municipality file: eds, putevi, mup, vodovod"


@pytest.mark.parametrize(
    ("who", "command", "said"),
    [
        ("ana", f"/handoff {REF} eds", "This is for municipal staff only; nothing was changed."),
        ("petar", f"/handoff {REF} eds", f"{REF} belongs to"),
        ("vesna", f"/handoff {REF} gas", f"Unknown body gas. {KNOWN}"),
        ("vesna", "/handoff VLA-2026-00099 eds", "There is no report VLA-2026-00099."),
        ("vesna", f"/handoff {REF}", "Please give the report and the body: /handoff REF BODY"),
        ("vesna", "/handoff", "Please give the report and the body"),
    ],
)
async def test_handoff_refuses_clearly_and_changes_nothing(
    office: Office, who: str, command: str, said: str
) -> None:
    await office.report_leak()
    sent = len(office.mail.sent)
    answer = await office.staff(who, command)
    assert said in answer[0]
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert stored.status == "new"
    assert len(office.mail.sent) == sent


async def test_an_ended_report_cannot_be_handed_over(office: Office) -> None:
    await office.report_leak()
    await office.staff("vesna", f"/reject {REF} Not a leak")
    assert await office.staff("vesna", f"/handoff {REF} eds") == [
        f"{REF} is rejected; it cannot be handed over."
    ]
    await office.staff("vesna", f"/reopen {REF}")
    await office.staff("vesna", f"/handoff {REF} eds")
    assert await office.staff("vesna", f"/handoff {REF} vodovod") == [
        f"{REF} is handed over to the responsible body; it cannot be handed over."
    ]


async def test_a_file_without_bodies_says_so(office: Office) -> None:
    app = office.bot.app
    app.deps = replace(app.deps, municipality=replace(app.deps.municipality, bodies={}))
    app.dispatcher._deps = app.deps
    await office.report_leak()
    assert await office.staff("vesna", f"/handoff {REF} eds") == [
        "The municipality file names no outside bodies."
    ]
    await office.bot.say("mila", Press("menu:report"))
    replies = await office.bot.say("mila", Press("cat:road_damage"))
    assert [r.text for r in replies] == [
        "Describe the problem in a few words: what is wrong and where."
    ]


# Open311 publishes only the public status.


async def test_open311_reads_a_handed_over_report_as_closed_and_forwarded(
    office: Office, settings: Settings
) -> None:
    await office.report_leak()
    await office.staff("vesna", f"/handoff {REF} vodovod")
    routes = runtime.web_app()
    open311.add_routes(routes, settings, office.bot.app)
    runner = await runtime.serve(routes, settings)
    root = f"http://127.0.0.1:{settings.http_port}/open311/v2"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{root}/requests/{REF}.json") as r:
                [document] = json.loads(await r.text())
            async with session.get(f"{root}/servicerequestupdates.json") as r:
                updates = json.loads(await r.text())
    finally:
        await runner.cleanup()
    assert document["status"] == "closed"
    assert document["status_notes"] == "Прослеђено надлежнима: ЈП „Регионални водовод“"
    assert document["expected_datetime"] is None
    assert "Ana" not in json.dumps(document)
    assert updates[-1]["status"] == "not_councils_responsibility"


def test_a_body_is_named_in_each_reader_s_language() -> None:
    eds = load_municipality(ROOT / "config" / "novi-pazar.toml").bodies["eds"]
    assert eds.name_in(translator("bs")) == "Elektrodistribucija Srbije, ogranak Novi Pazar"
    assert eds.name_in(translator("sr-Latn")).startswith("Elektrodistribucija Srbije — Ogranak")
    assert eds.name_in(translator("sr-Cyrl")).startswith("Електродистрибуција Србије")
    assert eds.name_in(translator("en")).endswith("distributor), Novi Pazar branch")

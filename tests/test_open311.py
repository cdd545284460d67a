"""The Open311 GeoReport v2 server, read by a real outside client (the ``georeport`` package)
and by plain HTTP, on the bot's real web server over a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
import referencing
from aiohttp import web
from georeport import GeoReport
from PIL import Image
from referencing.jsonschema import DRAFT7

from bot import runtime
from bot.settings import Settings
from bot.web import open311
from storage import opendata, reports
from storage.sql import fetch_all
from tests.conftest import REF, VLASOTINCE, WATER_CHAT, Office, Press, free_port

SCHEMAS = Path(__file__).parent / "data" / "open311"
KEY = "fms-key-0123456789"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


def api_settings(tmp_path: Path) -> Settings:
    """The bot's settings with a free port and one API client."""
    return Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "BOT_CONFIG": str(VLASOTINCE),
            "HTTP_PORT": str(free_port()),
            "OPEN311_API_KEYS": f"fixmystreet={KEY}, broken-entry",
            # The photo servers of these tests are on loopback, which media_url may not reach
            # by default (tests/test_open311_media.py).
            "OPEN311_MEDIA_ALLOW": "127.0.0.1/32",
        }
    )


@dataclass
class Server:
    office: Office
    root: str
    session: aiohttp.ClientSession

    def client(self, fmt: str) -> GeoReport:
        return GeoReport(self.root, output_format=fmt)

    async def get(self, path: str, **params: str) -> tuple[int, str, str]:
        async with self.session.get(self.root + path, params=params) as r:
            return r.status, r.headers["Content-Type"], await r.text()

    async def get_json(self, path: str, **params: str) -> Any:
        status, kind, body = await self.get(path, **params)
        assert status == 200, body
        assert kind == "application/json; charset=utf-8"
        return json.loads(body)

    async def post(self, fmt: str = "json", **form: str) -> tuple[int, str]:
        async with self.session.post(f"{self.root}/requests.{fmt}", data=form) as r:
            return r.status, await r.text()


@contextlib.asynccontextmanager
async def serving(office: Office, settings: Settings) -> AsyncIterator[Server]:
    """The API on the bot's web server, with these settings."""
    routes = runtime.web_app()
    open311.add_routes(routes, settings, office.bot.app)
    runner = await runtime.serve(routes, settings)
    try:
        async with aiohttp.ClientSession() as session:
            yield Server(office, f"http://127.0.0.1:{settings.http_port}/open311/v2", session)
    finally:
        await runner.cleanup()


@pytest.fixture
async def server(office: Office, settings: Settings) -> AsyncIterator[Server]:
    async with serving(office, settings) as served:
        yield served


def validator(name: str) -> jsonschema.Draft7Validator:
    resources = [
        (p.name, referencing.Resource.from_contents(json.loads(p.read_text()), DRAFT7))
        for p in SCHEMAS.glob("*.json")
    ]
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema.Draft7Validator(schema, registry=registry)


def zoned(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


async def acknowledged_leak(server: Server) -> None:
    await server.office.report_leak()
    await server.office.staff("vesna", f"/progress {REF} A crew is on its way.")


async def test_georeport_reads_every_endpoint_in_both_formats(server: Server) -> None:
    await acknowledged_leak(server)
    for fmt in ("json", "xml"):
        client = server.client(fmt)
        listed = await asyncio.to_thread(client.get_service_list)
        codes = [s["service_code"] for s in listed]
        assert codes[:2] == ["road_damage", "street_lighting"]
        water = next(s for s in listed if s["service_code"] == "water_sewage")
        assert water["service_name"] == "Водовод и канализација"
        assert water["group"] == "ЈКП Водовод и канализација"
        assert str(water["metadata"]).lower() == "false"
        definition = await asyncio.to_thread(client.get_service_definition, "water_sewage")
        assert definition["service_code"] == "water_sewage"
        found = await asyncio.to_thread(client.get_service_requests, service_code="water_sewage")
        one = found[0] if isinstance(found, list) else found  # xmltodict: one item is no list
        assert one["service_request_id"] == REF
        assert one["status"] == "open"
        assert one["status_notes"] == "A crew is on its way."
        assert one["description"] == "Water is gushing from a pipe on the corner"
        assert float(one["lat"]) == pytest.approx(42.9661)
        assert zoned(one["requested_datetime"]).utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
        single = await asyncio.to_thread(client.get_service_request, REF)
        assert single["service_request_id"] == REF
        assert single["media_url"].startswith("http://127.0.0.1:")


async def test_the_json_validates_against_the_schemas(server: Server) -> None:
    await acknowledged_leak(server)
    validator("services.json").validate(await server.get_json("/services.json"))
    validator("service-definition.json").validate(
        await server.get_json("/services/road_damage.json")
    )
    for path in ("/requests.json", f"/requests/{REF}.json"):
        found = await server.get_json(path, extensions="true")
        validator("requests.json").validate(found)
        assert found[0]["service_request_id"] == REF
    discovery = await server.get_json("/discovery.json")
    endpoint = discovery["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]


async def test_xml_has_the_declaration_and_mirrors_the_json(server: Server) -> None:
    await acknowledged_leak(server)
    status, kind, body = await server.get("/requests.xml", extensions="true")
    assert status == 200
    assert kind == "text/xml; charset=utf-8"
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(body)  # noqa: S314 - our own server's answer
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None
    assert request.findtext("service_request_id") == REF
    assert request.findtext("extended_attributes/status") == "in_progress"
    notes = [n.findtext("type") for n in request.findall("notes/note")]
    assert notes == ["created", "status"]
    assert request.findtext("notes/note[2]/description") == "у раду: A crew is on its way."
    _, _, services = await server.get("/services.xml")
    first = ET.fromstring(services).find("service")  # noqa: S314
    assert first is not None
    assert first.findtext("service_code") == "road_damage"


async def test_nothing_personal_is_published(server: Server) -> None:
    await acknowledged_leak(server)
    await server.office.staff("vesna", f"/note {REF} Call Ana on 064 123 456.")
    await server.office.staff("vesna", f"/ask {REF} Is it brown?")
    await server.office.bot.say("ana", "Brown; I am at home all day, Ana.")
    for fmt in ("json", "xml"):
        _, _, body = await server.get(f"/requests.{fmt}", extensions="true")
        assert REF in body
        for secret in ("Ana", "064", "Is it brown", "at home", "Call"):
            assert secret not in body, (fmt, secret)


async def test_the_photo_link_serves_the_copy_without_exif(server: Server) -> None:
    await acknowledged_leak(server)
    single = await server.get_json(f"/requests/{REF}.json")
    async with server.session.get(single[0]["media_url"]) as answer:
        assert answer.status == 200
        image = Image.open(io.BytesIO(await answer.read()))
    assert image.format == "JPEG"
    assert not image.getexif()


async def test_the_filters_defaults_and_pages(server: Server) -> None:
    office = server.office
    await office.report_leak()
    office.bot.clock.advance(days=100)
    await office.report_leak("mila", again=True)
    await office.staff("vesna", "/resolve VLA-2026-00002 Fixed.")
    recent = await server.get_json("/requests.json")  # the last 90 days by default
    assert [r["service_request_id"] for r in recent] == ["VLA-2026-00002"]
    assert recent[0]["status"] == "closed"
    both = await server.get_json(
        "/requests.json", start_date="2026-05-01T00:00:00+02:00", end_date="2026-07-29T00:00:00Z"
    )
    assert [r["service_request_id"] for r in both] == [REF]
    by_id = await server.get_json(
        "/requests.json", service_request_id=f"{REF},VLA-2026-00002", status="open"
    )
    assert sorted(r["service_request_id"] for r in by_id) == [REF, "VLA-2026-00002"]
    assert await server.get_json("/requests.json", status="open") == []
    assert len(await server.get_json("/requests.json", status="closed")) == 1
    assert await server.get_json("/requests.json", service_code="road_damage") == []
    assert await server.get_json("/requests.json", status="", service_code="") == recent
    office.bot.clock.advance(days=-60)
    await office.report_leak("boss", again=True)
    office.bot.clock.advance(days=60)
    first = await server.get_json("/requests.json", page_size="1")
    second = await server.get_json("/requests.json", page_size="1", page="2")
    assert [first[0]["service_request_id"], second[0]["service_request_id"]] == [
        "VLA-2026-00002",
        "VLA-2026-00003",
    ]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_errors_are_the_specs(server: Server, fmt: str) -> None:
    cases = [
        ("/requests", {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},
         400, "at most 90 days"),
        ("/requests", {"start_date": "yesterday"}, 400, "ISO 8601"),
        ("/requests", {"status": "pending"}, 400, "open or closed"),
        ("/requests", {"page_size": "5000"}, 400, "page_size"),
        ("/requests/VLA-2026-09999", {}, 404, "no such request"),
        ("/services/unicorns", {}, 404, "no such service"),
        ("/tokens/nothing", {}, 404, "no such token"),
        ("/services", {"jurisdiction_id": "bgd"}, 404, "jurisdiction_id"),
    ]  # fmt: skip
    for path, params, code, words in cases:
        status, _, body = await server.get(f"{path}.{fmt}", **params)
        assert status == code, (path, body)
        if fmt == "json":
            assert json.loads(body)[0]["code"] == code
            assert words in json.loads(body)[0]["description"]
        else:
            error = ET.fromstring(body).find("error")  # noqa: S314
            assert error is not None
            assert error.findtext("code") == str(code)
            assert words in (error.findtext("description") or "")
    ok = await server.get(f"/services.{fmt}", jurisdiction_id="vla")
    assert ok[0] == 200


async def test_filing_needs_a_key_named_for_its_client(server: Server) -> None:
    form = {
        "service_code": "water_sewage",
        "description": "Leak",
        "lat": "42.966",
        "long": "22.129",
    }
    assert (await server.post(**form))[0] == 403
    status, body = await server.post("xml", api_key="broken-entry", **form)
    assert status == 403
    assert "<code>403</code>" in body
    assert (await server.post(api_key=KEY + "x", **form))[0] == 403
    async with server.office.bot.app.db.transaction() as conn:
        assert await fetch_all(conn, "SELECT id FROM reports") == []


async def test_a_filed_request_is_routed_carded_audited_and_named(server: Server) -> None:
    office = server.office
    status, body = await server.post(
        api_key=KEY, service_code="water_sewage", lat="42.9661", long="22.1290",
        description="A leak by the bus stop", first_name="Jovana", email="jovana@example.org",
        phone="0641234567", account_id="acc-7",
    )  # fmt: skip
    assert status == 201, body
    answer = json.loads(body)[0]
    assert answer["service_request_id"] == REF
    assert answer["account_id"] == "acc-7"
    assert REF in answer["service_notice"]
    await office.bot.app.sender.drain()
    card = office.chat(WATER_CHAT)[-1]
    assert card.key == "card:1"
    assert "A leak by the bus stop" in card.text
    assert "Jovana (fixmystreet, Open311)" in card.text
    assert REF in office.mail.to("vodovod@vlasotince.example.org")[0].subject
    conn = office.bot.app.db.conn
    stored = await reports.get_report(conn, 1)
    assert stored is not None
    assert [e.kind for e in stored.events] == ["created"]
    source = await fetch_all(conn, "SELECT source FROM reports")
    assert [r[0] for r in source] == ["open311:fixmystreet"]
    published = await server.get_json(f"/requests/{REF}.json")
    assert "Jovana" not in json.dumps(published)
    assert "0641234567" not in json.dumps(published)
    # Staff work on it as on any report; there is no chat to tell, and nothing waits to be sent.
    await office.staff("vesna", f"/ack {REF}")
    pending = await fetch_all(conn, "SELECT channel FROM outbox WHERE status = 'pending'")
    assert pending == []
    assert (await server.get_json(f"/requests/{REF}.json", extensions="true"))[0][
        "extended_attributes"
    ]["status"] == "acknowledged"


async def test_a_filed_request_has_the_chat_limits(server: Server) -> None:
    base = {"api_key": KEY, "service_code": "water_sewage", "lat": "42.966", "long": "22.129"}
    cases = [
        ({**base, "description": "ab"}, "description"),
        ({**base, "description": "x" * 4001}, "description"),
        ({**base, "description": "Leak", "lat": "44.8125", "long": "20.4612"}, "outside"),
        ({**base, "description": "Leak", "lat": "north"}, "lat"),
        ({"api_key": KEY, "service_code": "water_sewage", "description": "Leak"}, "address_string"),
        ({**base, "description": "Leak", "media_url": "file:///etc/passwd"}, "media_url"),
    ]
    for form, words in cases:
        status, body = await server.post(**form)
        assert status == 400, (form, body)
        assert words in json.loads(body)[0]["description"]
    located = await server.post(
        api_key=KEY, service_code="road_damage", description="A pothole", address_string="school"
    )
    assert located[0] == 201
    found = await server.get_json("/requests.json")
    assert found[0]["lat"] == pytest.approx(42.966)
    assert found[0]["address"] == "school"


async def test_a_media_url_is_fetched_and_stored_without_exif(
    server: Server, settings: Settings
) -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    raw = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(raw, format="JPEG", exif=exif)
    photo_app = web.Application()

    async def photo(_: web.Request) -> web.Response:
        return web.Response(body=raw.getvalue(), content_type="image/jpeg")

    photo_app.router.add_get("/p.jpg", photo)
    port = free_port()
    runner = web.AppRunner(photo_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        status, body = await server.post(
            api_key=KEY, service_code="garbage", lat="42.966", long="22.129",
            description="Bins overflowing", media_url=f"http://127.0.0.1:{port}/p.jpg",
        )  # fmt: skip
        missing = await server.post(
            api_key=KEY, service_code="garbage", lat="42.966", long="22.129",
            description="Bins overflowing", media_url=f"http://127.0.0.1:{port}/none.jpg",
        )  # fmt: skip
    finally:
        await runner.cleanup()
    assert status == 201, body
    assert missing[0] == 400
    published = await server.get_json(f"/requests/{REF}.json")
    async with server.session.get(published[0]["media_url"]) as answer:
        content = await answer.read()
    assert b"PhoneMaker" not in content
    assert Image.open(io.BytesIO(content)).size == (40, 30)


async def test_staff_can_take_a_report_out_of_the_open_data(server: Server) -> None:
    office = server.office
    await acknowledged_leak(server)
    media = (await server.get_json(f"/requests/{REF}.json"))[0]["media_url"]
    assert "for municipal staff only" in (await office.staff("ana", f"/private {REF}"))[0]
    assert "belongs to" in (await office.staff("petar", f"/private {REF}"))[0]
    assert "not public now" in (await office.staff("vesna", f"/private {REF}"))[0]
    assert await server.get_json("/requests.json") == []
    assert (await server.get(f"/requests/{REF}.json"))[0] == 404
    assert await server.get_json("/servicerequestupdates.json") == []
    async with server.session.get(media) as answer:
        assert answer.status == 404
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert stored.events[-1].kind == "unpublished"
    assert not stored.events[-1].public
    assert "public again" in (await office.staff("vesna", f"/public {REF}"))[0]
    assert len(await server.get_json("/requests.json")) == 1


async def test_fixmystreet_reads_the_updates(server: Server) -> None:
    await acknowledged_leak(server)
    await server.office.staff("vesna", f"/reply {REF} Tomorrow morning.")
    await server.office.staff("vesna", f"/resolve {REF} Pipe replaced.")
    status, kind, body = await server.get("/servicerequestupdates.xml")
    assert status == 200
    assert kind == "text/xml; charset=utf-8"
    root = ET.fromstring(body)  # noqa: S314
    assert root.tag == "service_requests_updates"
    updates = [
        (u.findtext("service_request_id"), u.findtext("status"), u.findtext("description"))
        for u in root.findall("request_update")
    ]
    assert updates == [
        (REF, "in_progress", "у раду: A crew is on its way."),
        (REF, "in_progress", "Tomorrow morning."),
        (REF, "fixed", "решена: Pipe replaced."),
    ]
    assert all(zoned(u.findtext("updated_datetime") or "") for u in root.findall("request_update"))


async def test_another_services_operator_cannot_tell_a_private_report_from_a_missing_one(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    """Petar (hygiene) asks about Vesna's (water) report: while it is public he is told whose it
    is (the site says so too); once it is not public, exactly what a report that does not exist
    gets: the same answer, the same log line, the same answer to a card's button."""
    await office.report_leak()
    assert "belongs to" in (await office.staff("petar", f"/ack {REF}"))[0]
    await office.staff("vesna", f"/private {REF}")
    missing = REF[:-5] + "00099"

    async def asked(ref: str, command: str, press: str) -> tuple[list[str], list[str], list[str]]:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            said = await office.staff("petar", command.format(ref=ref))
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("handlers")]
        pressed = [r.text for r in await office.bot.say("petar", Press(press))]
        return [s.replace(ref, "REF") for s in said], lines, pressed

    for command in ("/ack {ref}", "/note {ref} Call them", "/private {ref}", "/handoff {ref} eds"):
        hidden = await asked(REF, command, "st:ack:1")
        assert hidden == await asked(missing, command, "st:ack:99"), command
        assert hidden[0] == ["There is no report REF."], command
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert stored.status == "new"
    assert await office.staff("vesna", f"/ack {REF}") == [f"{REF} is now acknowledged."]


async def test_a_private_report_stays_private_in_storage_queries(office: Office) -> None:
    await office.report_leak()
    conn = office.bot.app.db.conn
    async with office.bot.app.db.transaction() as c:
        assert await opendata.set_public(c, 1, False)
        assert not await opendata.set_public(c, 1, False)
    assert await opendata.all_public(conn) == []
    assert await opendata.find_request(conn, REF) is None


async def test_a_control_character_in_a_description_keeps_the_xml_readable(
    server: Server,
) -> None:
    status, body = await server.post(
        api_key=KEY, service_code="water_sewage", lat="42.966", long="22.129",
        description="Leak\x01 by the \x1b[31mschool\x00",
    )  # fmt: skip
    assert status == 201, body
    for path in ("/requests.xml", f"/requests/{REF}.xml"):
        _, _, xml = await server.get(path, extensions="true")
        root = ET.fromstring(xml)  # noqa: S314 - our own server's answer
        assert root.findtext("request/description") == "Leak\ufffd by the \ufffd[31mschool\ufffd"
    [published] = await server.get_json("/requests.json")
    assert published["description"] == "Leak\x01 by the \x1b[31mschool\x00"  # JSON escapes them

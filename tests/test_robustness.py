"""What goes wrong in bots like this: made-up data, odd states, failures outside the handlers."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from aiohttp import web

from bot.app import build_app
from bot.runtime import serve, web_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.events import ButtonChoice, Command, Sender
from handlers.municipality import Municipality, StaffMember
from storage import reports
from tests.conftest import REF, Bot, DialogInput, Office, Press, free_port
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder


@pytest.mark.parametrize(
    "data",
    [
        "cons:²",
        "cons:99999999999999999999",
        "rep:99999999999999999999",
        "fix:yes:²",
        "cc:²",
        "cr:x",
    ],
)
async def test_made_up_ids_in_buttons_get_an_explanation_not_an_apology(
    office: Office, data: str
) -> None:
    await office.bot.say("ana", "/start")
    await office.bot.say("ana", Press("lang:en"))
    replies = await office.bot.say("ana", Press(data))
    assert [r.text for r in replies] == [
        "Please choose one of the options below.",
        "What would you like to do?",
    ]


async def test_cancel_in_a_staff_group_ends_the_reply_it_asked_for(office: Office) -> None:
    await office.report_leak()
    group = Sender("test", "vesna", "-100200", "Vesna", group=True)
    await office.bot.app.dispatcher.dispatch(ButtonChoice(group, "st:reply:1"))
    await office.bot.app.dispatcher.dispatch(Command(group, "cancel"))
    await office.bot.app.sender.drain()
    # Said in the staff's language: the whole group reads it, not Vesna alone.
    assert "Отказано." in [r.text for r in office.bot.channel.to("-100200")]
    before = len(office.bot.channel.to("ana"))
    await office.bot.say("vesna", "hello, I want to report a broken bench")
    assert len(office.bot.channel.to("ana")) == before  # nothing went to the resident


async def test_a_reject_reason_reaches_the_resident_in_their_language(office: Office) -> None:
    await office.report_leak()
    await office.bot.say("ana", "/language")
    await office.bot.say("ana", Press("lang:sr-Latn"))
    await office.bot.say("vesna", Press("st:reject:1"))
    await office.bot.say("vesna", Press("rj:1:info"))
    told = office.bot.channel.to("ana")[-1].text
    assert "odbijena" in told
    assert "not enough information" not in told


async def test_a_global_button_does_not_drop_an_awaited_answer(office: Office) -> None:
    await office.report_leak()
    await office.bot.say("vesna", f"/ask {REF} Since when?")
    hint = await office.bot.say("ana", Press("sub:budget"))
    assert "Please write your answer" in hint[0].text
    answered = await office.bot.say("ana", "Since Monday")
    assert "your answer was added" in answered[0].text


async def test_cancel_in_the_consultation_wizard_says_cancelled(office: Office) -> None:
    await office.bot.say("boss", "/consult new")
    assert "Cancelled." in (await office.bot.say("boss", "/cancel"))[0].text


async def test_a_failure_in_the_slow_work_is_answered(
    office: Office, geocoder: FakeGeocoder
) -> None:
    async def broken(query: str) -> None:
        raise RuntimeError("the disk is full")

    items: list[DialogInput] = [
        "/start",
        Press("lang:en"),
        Press("menu:report"),
        Press("cat:other"),
        "Bench",
        Press("photos:skip"),
    ]
    for item in items:
        await office.bot.say("ana", item)
    geocoder.geocode = broken  # type: ignore[method-assign]
    replies = await office.bot.say("ana", "Nemanjina 12")
    assert "something went wrong" in replies[0].text
    del geocoder.geocode  # back to the class's method
    assert "Is this the place?" in (await office.bot.say("ana", "school"))[-1].text


async def test_a_channel_bug_leaves_no_message_marked_sending(bot: Bot) -> None:
    bot.channel.failures = [ZeroDivisionError()]
    await bot.say("ana", "/start")
    async with bot.app.db.conn.execute("SELECT status FROM outbox") as cur:
        assert [r[0] for r in await cur.fetchall()] == ["pending"]
    bot.clock.advance(seconds=5)
    await bot.app.sender.drain()
    assert bot.channel.to("ana")


async def test_a_report_of_a_service_no_longer_in_the_file_breaks_nothing(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> None:
    residents, staff_chats = CollectingChannel("test"), CollectingChannel("telegram")
    channels = {"test": residents, "telegram": staff_chats}
    async with build_app(settings, municipality, channels, clock=clock, geocoder=geocoder) as app:
        office = Office(Bot(app, residents, clock), staff_chats, CollectingChannel("email"))
        await office.report_leak("ana")
        await office.report_leak("bob", again=True)
        await app.db.conn.execute("UPDATE reports SET service = 'parks_old' WHERE id = 1")
        clock.advance(hours=30)
        assert (
            await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "sla")) == 1
        )  # bob's, flagged
        stored = await reports.get_report(app.db.conn, 2)
        assert stored is not None


async def test_staff_taken_out_of_the_file_become_residents(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> None:
    boss = StaffMember("test", "boss", "Шеф", "admin", ())
    vesna = StaffMember("test", "vesna", "Весна", "operator", ("water",))
    channel = CollectingChannel("test")

    async def inbox_as_vesna(staff: tuple[StaffMember, ...]) -> str:
        m = replace(municipality, staff=staff)
        async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
            bot = Bot(app, channel, clock)
            await bot.say("vesna", "/start")
            await bot.say("vesna", Press("lang:en"))
            return (await bot.say("vesna", "/inbox"))[0].text

    assert "No open reports." in await inbox_as_vesna((boss, vesna))
    assert "for municipal staff only" in await inbox_as_vesna((boss,))


async def test_half_sent_http_requests_are_closed_within_the_limits() -> None:
    routes = web_app(body_timeout=0.5)

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=f"{len(await request.read())} bytes")

    routes.router.add_post("/hook", echo)
    port = free_port()
    runner = await serve(routes, Settings.from_env({"HTTP_PORT": str(port)}), head_timeout=0.5)
    try:
        # Half a request head, then nothing: closed without an answer.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /hook HTTP/1.1\r\nHost: bot\r\n")
        assert await asyncio.wait_for(reader.read(), 3) == b""
        writer.close()
        # The whole head and half the body: 408, then closed.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /hook HTTP/1.1\r\nHost: bot\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        answer = await asyncio.wait_for(reader.read(), 3)
        assert answer.startswith(b"HTTP/1.1 408")
        writer.close()
        # A whole request is served as before.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /hook HTTP/1.1\r\nHost: bot\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
        )
        assert (await asyncio.wait_for(reader.read(), 3)).endswith(b"3 bytes")
        writer.close()
    finally:
        await runner.cleanup()

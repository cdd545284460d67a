"""Calls to the database threads per event of a whole report: a hop more per event fails here.

Every call of an aiosqlite connection is one hop to its thread, and a hop costs more than the
short statements it carries (bench/dispatcher.py). One event alone is its own write batch
here, so its COMMIT (which carries the event's state and replies) is one of its hops.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import replace
from typing import Any

import aiosqlite
import pytest

from handlers.events import ButtonChoice, Command, Inbound, Location, Photo, Sender, Text
from storage import reports, users
from storage.sql import on_thread
from tests.conftest import REF, Bot, Office, Press, jpeg

ANA = Sender("test", "ana", "ana", "Ana")


def count_hops(monkeypatch: pytest.MonkeyPatch, bot: Bot) -> Counter[str]:
    """Count the calls that go to the writer's and the reader's threads."""
    hops: Counter[str] = Counter()
    real = aiosqlite.Connection._execute
    writer = bot.app.db.conn

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops["writer" if self is writer else "reader"] += 1
        return await real(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return hops


async def hops_of(bot: Bot, hops: Counter[str], event: Inbound) -> tuple[int, int]:
    """The writer's and the reader's hops of one event."""
    hops.clear()
    await bot.app.dispatcher.dispatch(event)
    return hops["writer"], hops["reader"]


# (event, writer hops, reader hops): the dedupe and the conversation in one hop, the state and
# the replies with the COMMIT; what a step needs beyond that is named.
REPORT: list[tuple[Inbound, int, int]] = [
    # The new user is created with their role as an admin added them, ahead with the dedupe.
    (Command(ANA, "start", update_id="1"), 2, 0),
    (ButtonChoice(ANA, "lang:en", update_id="2"), 2, 0),
    # The hourly limit of report starts: counted ahead, the start written with the COMMIT.
    (ButtonChoice(ANA, "menu:report", update_id="3"), 2, 0),
    (ButtonChoice(ANA, "cat:street_lighting", update_id="4"), 2, 0),
    (Text(ANA, "The street light by number 12 is out", update_id="5"), 2, 0),
    (ButtonChoice(ANA, "photos:skip", update_id="6"), 2, 0),
    # The search for the same problem reported nearby.
    (Location(ANA, 42.9661, 22.1290, update_id="7"), 3, 0),
    # The report takes the id and number read ahead: it is written with the COMMIT.
    (ButtonChoice(ANA, "sum:confirm", update_id="8"), 2, 0),
]


async def test_each_event_of_a_report_costs_its_counted_hops(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = count_hops(monkeypatch, bot)
    counted = [(event, *await hops_of(bot, hops, event)) for event, _, _ in REPORT]
    assert counted == REPORT
    assert len(await reports.list_for_user(bot.app.db.reader, 1)) == 1


async def test_a_report_with_a_photo_is_stored_with_the_confirmation_s_commit(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    for event, _, _ in REPORT[:5]:
        await bot.app.dispatcher.dispatch(event)
    photo = jpeg("blue")
    await bot.app.dispatcher.dispatch(Photo(ANA, "file-1", photo, len(photo), update_id="p"))
    await bot.app.dispatcher.dispatch(ButtonChoice(ANA, "photos:done", update_id="d"))
    await bot.app.dispatcher.dispatch(REPORT[6][0])
    hops = count_hops(monkeypatch, bot)
    assert await hops_of(bot, hops, REPORT[7][0]) == (2, 0)
    (summary,) = await reports.list_for_user(bot.app.db.reader, 1)
    stored = await reports.get_report(bot.app.db.reader, summary.id)
    assert stored is not None
    assert len(stored.photo_paths) == 1
    assert [e.kind for e in stored.events] == ["created"]


async def test_a_known_user_s_button_needs_no_read_of_their_state_before_the_transaction(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only kinds of events that have slow work somewhere need the state before the transaction."""
    for event, _, _ in REPORT[:2]:
        await bot.app.dispatcher.dispatch(event)
    bot.app.dispatcher._states.clear()  # as after a restart: nothing remembered
    hops = count_hops(monkeypatch, bot)
    assert await hops_of(bot, hops, ButtonChoice(ANA, "menu:report", update_id="m")) == (2, 0)
    bot.app.dispatcher._states.clear()
    # A location may have slow work (naming the place): its state is read first.
    assert (await hops_of(bot, hops, Location(ANA, 42.9661, 22.129, update_id="l")))[1] == 1


async def test_the_report_filed_in_one_call_is_the_one_read_back(bot: Bot) -> None:
    """What ``file_report`` returns (without a read) is what ``get_report`` loads."""
    await bot.app.dispatcher.dispatch(REPORT[0][0])
    new = reports.NewReport(
        user_id=1, category="street_lighting", service="lighting", description="Dark street",
        latitude=42.9661, longitude=22.129, address="Main street 1",
        photos=(reports.NewPhoto("a.jpg", "00", "test", "f1"),
                reports.NewPhoto("b.jpg", "11", "test", "f2")),
        sla_hours=48, anonymous=True, voice="v.ogg",
    )  # fmt: skip
    db = bot.app.db
    async with db.transaction() as conn:
        filed = await reports.file_report(conn, "VLA", new, bot.clock.now())
        second = await reports.file_report(conn, "VLA", replace(new, photos=()), bot.clock.now())
    assert filed == await reports.get_report(db.reader, filed.id)
    assert second == await reports.get_report(db.reader, second.id)
    assert (filed.ref, second.ref) == (
        f"VLA-{bot.clock.now().year}-00001",
        f"VLA-{bot.clock.now().year}-00002",
    )


async def test_the_events_of_a_batch_read_ahead_together_in_its_first_hop(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten residents choosing a category at the same time: one hop for all their reads, one to
    commit (a hop each for the reads before)."""
    people = [Sender("test", f"r{n}", f"r{n}", "R") for n in range(10)]
    for n, s in enumerate(people):
        for i, (event, _, _) in enumerate(REPORT[:3]):
            await bot.app.dispatcher.dispatch(replace(event, sender=s, update_id=f"{n}-{i}"))
    hops = count_hops(monkeypatch, bot)
    press = [ButtonChoice(s, "cat:street_lighting", update_id=f"{s.user_id}-c") for s in people]
    await asyncio.gather(*(bot.app.dispatcher.dispatch(p) for p in press))
    assert (hops["writer"], hops["reader"]) == (2, 0)
    states = [await users.load_conversation(bot.app.db.reader, "test", s.user_id) for s in people]
    assert {c.state if c else None for c in states} == {"report:description"}


async def test_a_user_changed_by_an_earlier_event_of_the_batch_is_read_anew(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator's /ask and the resident's message in one batch: the message is the answer."""
    await office.report_leak()
    dispatch = office.bot.app.dispatcher.dispatch
    ask = Command(office.bot.sender("vesna"), "ask", f"{REF} Is the water brown?")
    answer = Text(office.bot.sender("ana"), "Brown, and it smells.")
    before = len(office.bot.channel.to("ana"))
    with caplog.at_level(logging.INFO, logger="storage.db"):
        await asyncio.gather(dispatch(ask), dispatch(answer))
    stored = await reports.get_report(office.bot.app.db.reader, 1)
    assert stored is not None
    assert [(e.kind, e.text) for e in stored.events][-2:] == [
        ("question", "Is the water brown?"),
        ("answer", "Brown, and it smells."),
    ]
    assert "read ahead, then changed in the batch" in caplog.text  # they shared a batch
    await office.bot.app.sender.drain()
    told = [r.text for r in office.bot.channel.to("ana")[before:]]
    assert "The municipality asks about your report" in told[0]
    assert "your answer was added" in told[1]


async def test_new_users_of_a_batch_are_created_in_its_first_hop(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ten people writing for the first time at once: their rows come with the batch's reads
    (each counted as its own event's change, so the batch is not run again)."""
    people = [Sender("test", f"n{n}", f"n{n}", f"N{n}") for n in range(10)]
    hops = count_hops(monkeypatch, bot)
    with caplog.at_level(logging.INFO, logger="storage.db"):
        await asyncio.gather(
            *(bot.app.dispatcher.dispatch(Command(s, "start", update_id=s.user_id)) for s in people)
        )
    assert (hops["writer"], hops["reader"]) == (2, 0)
    assert "run again one by one" not in caplog.text
    for s in people:
        conversation = await users.load_conversation(bot.app.db.reader, "test", s.user_id)
        assert conversation is not None
        assert (conversation.user.first_name, conversation.user.role) == (s.first_name, "resident")


async def test_an_update_delivered_again_after_the_erasure_stores_no_one(bot: Bot) -> None:
    """The dedupe comes first: an old update of someone who erased their data is skipped, and
    does not store them anew (with the read-ahead's create, or with its own)."""
    start = Command(ANA, "start", update_id="1")
    for event, _, _ in [(start, 0, 0), *REPORT[1:2]]:
        await bot.app.dispatcher.dispatch(event)
    await bot.say("ana", "/deleteme")
    told = await bot.say("ana", Press("erase:yes"))
    assert "Your personal data is erased." in told[0].text
    for remembered in (True, False):  # whether the dispatcher remembers her state or not
        if not remembered:
            bot.app.dispatcher._states.clear()
        await bot.app.dispatcher.dispatch(start)
        assert await users.load_conversation(bot.app.db.reader, "test", "ana") is None
    # A new update is someone writing again: they are stored anew.
    await bot.app.dispatcher.dispatch(Command(ANA, "start", update_id="new"))
    again = await users.load_conversation(bot.app.db.reader, "test", "ana")
    assert again is not None
    assert again.user.language is None


async def test_a_staff_member_added_by_an_admin_is_created_ahead_with_their_role(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/staff add before their first message: their row, created ahead, has the role."""
    await office.staff("boss", "/staff add test newop operator water")
    hops = count_hops(monkeypatch, office.bot)
    newop = office.bot.sender("newop")
    assert await hops_of(office.bot, hops, Command(newop, "start", update_id="s")) == (2, 0)
    conversation = await users.load_conversation(office.bot.app.db.reader, "test", "newop")
    assert conversation is not None
    assert (conversation.user.role, conversation.user.services) == ("operator", ("water",))


async def test_a_user_created_ahead_and_changed_by_an_earlier_event_is_read_anew(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    """An admin's /staff add and the new member's first message in one batch: the message is
    handled again after the role is stored (the row created ahead had none)."""
    dispatch = office.bot.app.dispatcher.dispatch
    add = Command(office.bot.sender("boss"), "staff", "add test zora operator water")
    first = Command(office.bot.sender("zora"), "start", update_id="z1")
    with caplog.at_level(logging.INFO, logger="storage.db"):
        await asyncio.gather(dispatch(add), dispatch(first))
    assert "read ahead, then changed in the batch" in caplog.text  # they shared a batch
    zora = await users.load_conversation(office.bot.app.db.reader, "test", "zora")
    assert zora is not None
    assert (zora.user.role, zora.user.services) == ("operator", ("water",))


async def test_the_hourly_limit_of_report_starts_counts_the_starts_read_ahead(bot: Bot) -> None:
    """The limit's starts are counted with the batch's first hop: the start after the limit is
    refused (and not counted), and an hour later a report may be started again."""
    for event, _, _ in REPORT[:2]:
        await bot.app.dispatcher.dispatch(event)
    limit = bot.app.deps.municipality.reports_per_hour
    for _ in range(limit):
        started = await bot.say("ana", Press("menu:report"))
        assert started[-1].text == "What kind of problem is it?"
        await bot.say("ana", "/cancel")
    for _ in range(2):
        refused = await bot.say("ana", Press("menu:report"))
        assert f"You have started {limit} reports in the last hour." in refused[0].text
    bot.clock.advance(minutes=61)
    for _ in range(limit):
        again = await bot.say("ana", Press("menu:report"))
        assert again[-1].text == "What kind of problem is it?"
        await bot.say("ana", "/cancel")
    refused = await bot.say("ana", Press("menu:report"))
    assert "reports in the last hour" in refused[0].text


async def at_summary(bot: Bot, people: list[Sender]) -> None:
    """Each of ``people`` writes a report up to its summary."""
    for s in people:
        for i, (event, _, _) in enumerate(REPORT[:7]):
            await bot.app.dispatcher.dispatch(
                replace(event, sender=s, update_id=f"{s.user_id}-{i}")
            )


def confirm(s: Sender) -> ButtonChoice:
    return ButtonChoice(s, "sum:confirm", update_id=f"{s.user_id}-confirm")


async def named_refs(bot: Bot, people: list[Sender]) -> list[tuple[str, str]]:
    """Each one's confirmed report: the reference their confirmation named, and the stored one."""
    await bot.app.sender.drain()
    found = []
    for s in people:
        (told,) = [r.text for r in bot.channel.to(s.chat_id) if "registered under" in r.text]
        (summary,) = await reports.list_for_user(bot.app.db.reader, int(await user_id(bot, s)))
        found.append((told.split("number ")[1].split(".")[0], summary.ref))
    return found


async def user_id(bot: Bot, s: Sender) -> int:
    conversation = await users.load_conversation(bot.app.db.reader, s.channel, s.user_id)
    assert conversation is not None
    return conversation.user.id


async def test_reports_confirmed_in_one_batch_take_the_next_numbers_in_turn(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Three confirmations in one batch: the numbers read ahead are one, each takes the next;
    one call for their reads and one for the COMMIT, and each is told its own report's number."""
    people = [Sender("test", f"c{n}", f"c{n}", "C") for n in range(3)]
    await at_summary(bot, people)
    hops = count_hops(monkeypatch, bot)
    with caplog.at_level(logging.INFO, logger="storage.db"):
        await asyncio.gather(*(bot.app.dispatcher.dispatch(confirm(s)) for s in people))
    assert (hops["writer"], hops["reader"]) == (2, 0)
    assert "run again one by one" not in caplog.text
    year = bot.clock.now().year
    refs = await named_refs(bot, people)
    assert refs == [(f"VLA-{year}-0000{n}", f"VLA-{year}-0000{n}") for n in (1, 2, 3)]


async def test_a_report_filed_with_its_own_call_earlier_in_the_batch_takes_its_number(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """A report filed (as the Open311 API does) by an earlier work of the batch: the one
    confirmed after it takes the number after its own, without running the batch again."""
    await at_summary(bot, [ANA])
    new = reports.NewReport(
        user_id=await user_id(bot, ANA), category="street_lighting", service="lighting",
        description="Dark street", latitude=None, longitude=None, address=None, photos=(),
        sla_hours=48,
    )  # fmt: skip
    now = bot.clock.now()

    async def file_one(conn: aiosqlite.Connection) -> str:
        return await reports.create_report(conn, "VLA", new, now)

    with caplog.at_level(logging.INFO, logger="storage.db"):
        first, _ = await asyncio.gather(
            bot.app.db.in_batch(file_one), bot.app.dispatcher.dispatch(confirm(ANA))
        )
    assert "run again one by one" not in caplog.text
    assert first == f"VLA-{now.year}-00001"
    await bot.app.sender.drain()
    (told,) = [r.text for r in bot.channel.to("ana") if "registered under" in r.text]
    assert f"VLA-{now.year}-00002" in told
    stored = await reports.find_by_ref(bot.app.db.reader, f"VLA-{now.year}-00002")
    assert stored is not None
    assert stored.description == "The street light by number 12 is out"


async def test_a_number_taken_behind_the_batch_s_back_runs_the_batch_again(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """A statement of an earlier work takes the number read ahead without saying so: the
    confirmation's insert fails on the unique key, the batch runs again one work at a time, and
    the resident is told the number their report has."""
    await at_summary(bot, [ANA])
    year = bot.clock.now().year
    at = bot.clock.now().isoformat()

    async def take_one(conn: aiosqlite.Connection) -> None:
        await conn.execute(
            "INSERT INTO reports (ref, year, seq, user_id, category, service, description,"
            " created_at, updated_at, sla_due_at) SELECT 'X', ?, 1, id, 'street_lighting',"
            " 'lighting', 'Taken', ?, ?, ? FROM users WHERE external_id = 'ana'",
            (year, at, at, at),
        )

    with caplog.at_level(logging.INFO, logger="storage.db"):
        await asyncio.gather(
            bot.app.db.in_batch(take_one), bot.app.dispatcher.dispatch(confirm(ANA))
        )
    assert "run again one by one" in caplog.text
    await bot.app.sender.drain()
    (told,) = [r.text for r in bot.channel.to("ana") if "registered under" in r.text]
    assert f"VLA-{year}-00002" in told
    stored = await reports.find_by_ref(bot.app.db.reader, f"VLA-{year}-00002")
    assert stored is not None
    assert stored.description == "The street light by number 12 is out"


# What each event of REPORT reads ahead besides its dedupe and conversation: only the values
# its user's last state may need (the first event's user is not known yet: it reads them all).
READ_AHEAD = {"report_starts": "FROM report_starts", "next_id": "MAX(id)", "next_seq": "MAX(seq)"}
READS: list[set[str]] = [
    {"report_starts", "next_id", "next_seq"}, set(), {"report_starts"}, set(), set(), set(),
    set(), {"next_id", "next_seq"},
]  # fmt: skip


async def test_an_event_reads_ahead_only_what_its_user_s_last_state_may_need(bot: Bot) -> None:
    statements: list[str] = []  # the writer's, told on its thread
    writer = bot.app.db.conn
    await on_thread(writer, lambda raw: raw.set_trace_callback(statements.append))
    try:
        read = []
        for event, _, _ in REPORT:
            statements.clear()
            await bot.app.dispatcher.dispatch(event)
            read.append({n for n, sql in READ_AHEAD.items() if any(sql in s for s in statements)})
    finally:
        await on_thread(writer, lambda raw: raw.set_trace_callback(None))
    assert read == READS
    assert len(await reports.list_for_user(bot.app.db.reader, 1)) == 1


async def test_a_start_that_was_not_read_ahead_still_keeps_the_hourly_limit(bot: Bot) -> None:
    """The dispatcher's memory of a state can be stale (a job moved the conversation): a quick
    report started where the count was not read ahead counts the starts itself."""
    for event, _, _ in REPORT[:2]:
        await bot.app.dispatcher.dispatch(event)
    limit = bot.app.deps.municipality.reports_per_hour
    for _ in range(limit):
        await bot.say("ana", Press("menu:report"))
        await bot.say("ana", "/cancel")
    # Remembered in a report's step (where a location is no start), in the menu in fact.
    bot.app.dispatcher._states[("test", "ana")] = "report:location"
    refused = await bot.say("ana", Location(ANA, 42.9661, 22.1290))
    assert f"You have started {limit} reports in the last hour." in refused[0].text

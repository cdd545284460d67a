"""Who may act, and what reaches a resident: checked at the moment of acting (issue 9)."""

from __future__ import annotations

from dataclasses import replace

from bot.app import sync_staff
from bot.scheduler import find_job, run_job
from handlers.events import ButtonChoice, Location, Sender, Text
from storage import reports, users
from tests.conftest import REF, DialogInput, Office, OnScreen, Press
from tests.fakes.ports import FakeGeocoder

GROUP = "-1001000000102"  # the water service's staff chat in the office fixture


def in_group(user: str) -> Sender:
    return Sender("test", user, GROUP, user.title(), group=True)


async def say_in_group(office: Office, event: Text | ButtonChoice) -> list[str]:
    """Send an event from the water group; return the texts the group got."""
    before = len(office.bot.channel.to(GROUP))
    await office.bot.app.dispatcher.dispatch(event)
    await office.bot.app.sender.drain()
    return [r.text for r in office.bot.channel.to(GROUP)[before:]]


def answers_to(office: Office, user: str) -> list[str]:
    return [r.text for r in office.bot.channel.to(user) if "answered about your report" in r.text]


async def test_only_a_reply_to_the_prompt_is_the_answer_and_the_prompt_expires(
    office: Office,
) -> None:
    await office.report_leak()
    asked = await say_in_group(office, ButtonChoice(in_group("vesna"), "st:reply:1"))
    # In the staff's language, not in Vesna's English: the whole chat reads the prompt.
    assert any(t.startswith(f"Напишите одговор на пријаву {REF};") for t in asked)
    prompt_id = str(len(office.bot.channel.sent) - 1)  # the collecting channel's message id
    # Talking to a colleague in the group, quoting some other message: not the answer.
    await say_in_group(office, Text(in_group("vesna"), "Marko, can you go?", reply_to="0"))
    await say_in_group(office, Text(in_group("vesna"), "Who has the van today?"))
    assert answers_to(office, "ana") == []
    await say_in_group(office, Text(in_group("vesna"), "A crew comes today.", reply_to=prompt_id))
    assert answers_to(office, "ana") == [
        f"The municipality answered about your report {REF}:\nA crew comes today."
    ]
    # Asked again, then left: after the limit the group is told, and a late reply goes nowhere.
    await say_in_group(office, ButtonChoice(in_group("vesna"), "st:reply:1"))
    second_prompt = str(len(office.bot.channel.sent) - 1)
    office.bot.clock.advance(minutes=office.bot.app.deps.municipality.staff_answer_minutes + 1)
    app = office.bot.app
    assert (
        await run_job(
            app.db, app.deps, app.sender, find_job(app.deps.registry, "staff-questions-expire")
        )
        == 1
    )
    await app.sender.drain()
    # Told in the staff's language (everyone in the chat reads it), not in Vesna's English.
    assert office.bot.channel.to(GROUP)[-1].text == (
        "Питање је предуго чекало и истекло је; притисните дугме поново."
    )
    assert (
        await run_job(
            app.db, app.deps, app.sender, find_job(app.deps.registry, "staff-questions-expire")
        )
        == 0
    )
    await say_in_group(office, Text(in_group("vesna"), "Late words", reply_to=second_prompt))
    assert len(answers_to(office, "ana")) == 1


async def test_an_admin_removed_from_the_file_cannot_send_a_prepared_announcement(
    office: Office,
) -> None:
    await office.bot.say("ana", "/start")
    await office.bot.say("ana", Press("lang:en"))
    await office.bot.say("ana", Press("menu:notify"))
    await office.bot.say("ana", Press("sub:communal"))
    await office.staff("boss", "/announce communal")
    preview = await office.staff("boss", "The water is off on Monday from 8 to 12.")
    assert "Send this to 1 subscriber?" in preview[0]
    app = office.bot.app
    demoted = replace(
        app.deps.municipality,
        staff=tuple(m for m in app.deps.municipality.staff if m.user_id != "boss"),
    )
    await sync_staff(app.db, demoted, app.deps.registry, app.deps.clock.now())
    refused = [r.text for r in await office.bot.say("boss", OnScreen("an:ok"))]
    assert refused[0] == "This is for municipal staff only; nothing was changed."
    assert not any("water is off" in r.text for r in office.bot.channel.to("ana"))
    conversation = await users.load_conversation(app.db.conn, "test", "boss")
    assert conversation is not None
    assert not conversation.state.startswith("announce")


async def test_a_consultation_wizard_step_rechecks_the_role(office: Office) -> None:
    await office.staff("boss", "/consult new")
    app = office.bot.app
    async with app.db.transaction() as conn:
        await users.set_role(conn, "test", "boss", "resident", ())
    refused = await office.staff("boss", "Budget 2027")
    assert refused[0] == "This is for municipal staff only; nothing was changed."


async def test_answer_is_for_admins_and_staff_commands_check_their_arguments(
    office: Office,
) -> None:
    assert (await office.staff("vesna", "/answer 1 We agree."))[0] == (
        "This is for municipal staff only; nothing was changed."
    )
    assert (
        "not a telegram user id"
        in (await office.staff("boss", "/staff add telegram abc operator water"))[0]
    )
    assert (
        "not a viber user id"
        in (await office.staff("boss", "/staff add viber ab operator water"))[0]
    )
    assert (
        "Added operator"
        in (await office.staff("boss", "/staff add telegram 123456789 operator water"))[0]
    )
    # A member of the file is not removed by /staff remove, and is told why.
    removed = await office.staff("boss", "/staff remove test vesna")
    assert "municipality file" in removed[0]
    vesna = await users.load_conversation(office.bot.app.db.conn, "test", "vesna")
    assert vesna is not None
    assert vesna.user.role == "operator"


async def test_commands_during_a_report_keep_the_draft(office: Office) -> None:
    items: list[DialogInput] = [
        "/start",
        Press("lang:en"),
        Press("menu:report"),
        Press("cat:garbage"),
    ]
    for item in items:
        await office.bot.say("ana", item)
    for command in ("/consultations", "/subscribe", "/unsubscribe", "/notifications", "/start"):
        replies = await office.bot.say("ana", command)
        assert replies[0].text.startswith("You have a report in progress"), command
        assert replies[1].text.startswith("Describe the problem"), command
    replies = await office.bot.say("ana", "Bins not emptied behind the school")
    assert "Send up to 3 photos" in replies[0].text


async def test_an_admins_commands_that_start_a_flow_keep_their_report_draft(office: Office) -> None:
    # An admin writing a report (as a resident of the town) who types a staff command that would
    # start a flow of its own is reminded of the report, which is kept, instead of losing it.
    items: list[DialogInput] = [
        "/start", Press("lang:en"), Press("menu:report"), Press("cat:garbage"),
    ]  # fmt: skip
    for item in items:
        await office.bot.say("boss", item)
    for command in (
        "/announce budget", "/consult new", "/consult announce 1", "/library import",
        "/plan import", "/budget import", "/library", "/library Andrić",
    ):  # fmt: skip
        replies = await office.bot.say("boss", command)
        assert [r.text.split(".")[0] for r in replies] == [
            "You have a report in progress",
            "Describe the problem in a few words: what is wrong and where",
        ], command
    replies = await office.bot.say("boss", "Bins not emptied behind the school")
    assert "Send up to 3 photos" in replies[0].text


async def test_start_while_an_answer_is_awaited_keeps_the_question(office: Office) -> None:
    await office.report_leak()
    await office.staff("vesna", f"/ask {REF} Which entrance?")
    replies = await office.bot.say("ana", "/start")
    assert replies[0].text == "Please write your answer as a text message, or /cancel."
    await office.bot.say("ana", "The one by the bakery")
    report = await reports.find_by_ref(office.bot.app.db.conn, REF)
    assert report is not None
    assert [e.text for e in report.events if e.kind == "answer"] == ["The one by the bakery"]


async def test_an_answer_to_a_question_is_never_sent_to_the_geocoder(
    office: Office, geocoder: FakeGeocoder
) -> None:
    await office.report_leak("ana")
    draft: list[DialogInput] = [
        Press("menu:report"),
        Press("cat:garbage"),
        "Bins not emptied",
        Press("photos:skip"),
    ]
    for item in draft:
        await office.bot.say("ana", item)  # now at the location step: a text would be geocoded
    await office.staff("vesna", f"/ask {REF} Is the water still running?")
    asked_before = list(geocoder.queries)
    replies = await office.bot.say("ana", "Yes, behind Main Street 5")
    assert geocoder.queries == asked_before
    # Thanked, and back at the location step of the draft, which was kept.
    assert [r.text.split(" (")[0] for r in replies] == [
        f"Thank you, your answer was added to {REF}.",
        "Where is the problem? Share the location with the button below, or type the address",
    ]
    replies = await office.bot.say("ana", Location(office.bot.sender("ana"), 42.9661, 22.1290))
    assert "Please check your report" in replies[-1].text


async def test_a_reopened_report_is_escalated_counting_from_the_reopening(office: Office) -> None:
    await office.report_leak()
    await office.staff("vesna", f"/resolve {REF}")
    office.bot.clock.advance(hours=24 * 30)
    await office.staff("vesna", f"/reopen {REF}")
    app = office.bot.app
    sla = app.deps.municipality.services["water"].sla_hours
    office.bot.clock.advance(hours=sla + 1)
    assert await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "sla")) >= 1
    await app.sender.drain()
    # Counted from the reopening: the SLA itself, not the 30 days since the first report.
    assert f"{REF} није примљена у року од {sla} ч" in office.chat(GROUP)[-1].text
    office.bot.clock.advance(hours=sla)
    assert await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "sla")) >= 1
    await app.sender.drain()
    assert any("twice past its SLA" in r.text for r in office.bot.channel.to("boss"))

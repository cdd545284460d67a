"""Operators work on reports: cards in staff chats, the staff commands, the resident's side."""

from __future__ import annotations

from storage import reports
from tests.conftest import HYGIENE_CHAT, REF, WATER_CHAT, Office, Picture, Press, jpeg


async def test_a_new_report_reaches_its_service_as_a_card_and_an_email(office: Office) -> None:
    await office.report_leak()
    card = office.chat(WATER_CHAT)[-1]
    assert card.key == "card:1"
    assert REF in card.text
    assert "Water is gushing" in card.text
    assert "openstreetmap.org/?mlat=42.966100&mlon=22.129000" in card.text
    assert "Ana" in card.text
    assert len(card.photos) == 1
    assert office.card_data() == [
        "st:ack:1",
        "st:progress:1",
        "st:resolve:1",
        "st:reject:1",
        "st:reply:1",
    ]
    mail = office.mail.to("vodovod@vlasotince.example.org")[0]
    assert REF in mail.subject
    assert mail.photos == card.photos


async def test_a_reports_times_are_written_as_each_reader_writes_them(office: Office) -> None:
    """The staff read Serbian Cyrillic, Ana English; both on Belgrade's clock (9:00 UTC, 11:00)."""
    await office.report_leak()
    card = office.chat(WATER_CHAT)[-1].text
    assert "\nПоднета: 17. 5. 2026. 11:00\nРок (SLA): 18. 5. 2026. 11:00" in card
    assert (
        "\nПоднета: 17. 5. 2026. 11:00\n"
        in office.mail.to("vodovod@vlasotince.example.org")[0].text
    )
    mine = await office.bot.say("ana", Press("rep:1"))
    assert mine[0].text.endswith("\nHistory:\n17 May 2026, 11:00 - Report received")


async def test_acknowledge_from_the_card_edits_it_and_tells_the_resident(office: Office) -> None:
    await office.report_leak()
    replies = await office.staff("vesna", Press("st:ack:1"))  # type: ignore[arg-type]
    assert replies == [f"{REF} is now acknowledged."]
    edited = office.chat(WATER_CHAT)[-1]
    assert edited.edit
    assert "ПРИМЉЕНА" in edited.text  # staff chats read the municipality's first language
    assert office.card_data() == ["st:progress:1", "st:resolve:1", "st:reject:1", "st:reply:1"]
    told = office.bot.channel.to("ana")[-1].text
    assert f"Your report {REF}" in told
    assert "acknowledged" in told
    again = await office.staff("vesna", Press("st:ack:1"))  # type: ignore[arg-type]
    assert f"{REF} is acknowledged; it cannot become acknowledged" in again[0]
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert [(e.kind, e.old_status, e.new_status) for e in stored.events] == [
        ("created", None, "new"),
        ("status", "new", "acknowledged"),
    ]


async def test_residents_and_other_services_are_refused(office: Office) -> None:
    await office.report_leak()
    assert "for municipal staff only" in (await office.staff("ana", f"/ack {REF}"))[0]
    assert "for municipal staff only" in (await office.staff("ana", Press("st:resolve:1")))[0]  # type: ignore[arg-type]
    refused = await office.staff("petar", f"/ack {REF}")
    assert "it is not yours" in refused[0]
    assert "for municipal staff only" in (await office.staff("vesna", "/staff list"))[0]
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert stored.status == "new"


async def test_reply_and_ask_round_trips(office: Office) -> None:
    await office.report_leak()
    await office.staff("vesna", f"/reply {REF} A crew is on its way.")
    assert "A crew is on its way." in office.bot.channel.to("ana")[-1].text
    await office.staff("vesna", f"/ask {REF} Is the water brown or clear?")
    assert "Is the water brown or clear?" in office.bot.channel.to("ana")[-1].text
    answered = await office.bot.say("ana", "Brown, and it smells.")
    assert "your answer was added" in answered[0].text
    staff_sees = office.chat(WATER_CHAT)[-1].text
    assert REF in staff_sees
    assert "Brown, and it smells." in staff_sees
    await office.staff("vesna", f"/note {REF} Call the lab.")
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert [e.kind for e in stored.events] == ["created", "reply", "question", "answer", "note"]
    details = await office.bot.say("ana", Press("rep:1"))
    assert "Brown, and it smells." in details[0].text
    assert "Call the lab." not in details[0].text  # internal notes stay internal


async def test_a_question_keeps_the_report_the_resident_is_writing(office: Office) -> None:
    await office.report_leak()
    for item in [Press("menu:report"), Press("cat:garbage")]:
        await office.bot.say("ana", item)
    await office.staff("vesna", f"/ask {REF} Since when?")
    back = await office.bot.say("ana", "Since Monday")
    assert "Describe the problem" in back[-1].text
    again = await office.bot.say("ana", "Bins are overflowing")
    assert "Send up to 3 photos" in again[-1].text


async def test_reply_button_asks_for_the_text(office: Office) -> None:
    await office.report_leak()
    asked = await office.bot.say("vesna", Press("st:reply:1"))
    # In a private chat the question has a Cancel button (a staff chat forces a reply instead).
    assert [b.data for row in asked[0].buttons for b in row] == ["sq:cancel:1"]
    await office.bot.say("vesna", "We will fix it tomorrow.")
    assert "We will fix it tomorrow." in office.bot.channel.to("ana")[-1].text


async def test_rerouting_sends_the_card_to_the_new_service(office: Office) -> None:
    await office.report_leak()
    moved = await office.staff("boss", f"/assign {REF} hygiene")
    assert "was passed to" in moved[0]
    assert office.chat(HYGIENE_CHAT)[-1].key == "card:1"
    assert "Your report" in office.bot.channel.to("ana")[-1].text
    assert "it is not yours" in (await office.staff("vesna", f"/ack {REF}"))[0]
    assert "is now acknowledged" in (await office.staff("petar", f"/ack {REF}"))[0]


async def test_the_fix_question_both_ways(office: Office) -> None:
    await office.report_leak()
    await office.staff("vesna", f"/resolve {REF} Pipe replaced.")
    question = office.bot.channel.to("ana")[-1]
    assert [b.data for row in question.buttons for b in row] == ["fix:yes:1", "fix:no:1"]
    said_no = await office.bot.say("ana", Press("fix:no:1"))
    assert "reopened" in said_no[0].text
    assert "није решен" in office.chat(WATER_CHAT)[-1].text  # in the staff chat's language
    await office.staff("vesna", f"/resolve {REF}")
    said_yes = await office.bot.say("ana", Press("fix:yes:1"))
    assert "is closed" in said_yes[0].text
    stale = await office.bot.say("ana", Press("fix:no:1"))
    assert "already closed" in stale[0].text
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert stored.status == "closed"


async def test_reject_with_a_reason_button_and_duplicates(office: Office) -> None:
    await office.report_leak("ana")
    await office.report_leak("bob", again=True)
    reasons = await office.bot.say("vesna", Press("st:reject:1"))
    assert [b.data for row in reasons[0].buttons for b in row] == [
        "rj:1:not_ours",
        "rj:1:duplicate",
        "rj:1:info",
    ]
    await office.bot.say("vesna", Press("rj:1:info"))
    assert "rejected: not enough information" in office.bot.channel.to("ana")[-1].text
    await office.staff("vesna", "/dup VLA-2026-00002 VLA-2026-00001")
    assert "a duplicate of VLA-2026-00001" in office.bot.channel.to("bob")[-2].text
    assert "cannot become" in (await office.staff("vesna", f"/progress {REF}"))[0]
    assert "is now reopened" in (await office.staff("vesna", f"/reopen {REF}"))[0]


async def test_inbox_stats_templates_and_staff(office: Office) -> None:
    await office.report_leak()
    inbox = await office.staff("vesna", "/inbox")
    assert REF in inbox[0]
    assert "1 open report" in inbox[0]
    office.bot.clock.advance(hours=30)  # past the water service's 24-hour SLA
    assert "⚠️" in (await office.staff("vesna", "/inbox"))[0]
    await office.staff("vesna", f"/ack {REF}")
    stats = await office.staff("boss", "/stats 7")
    assert "acknowledged 1" in stats[0]
    assert "30.0" in stats[0]
    assert "#hvala" in (await office.staff("vesna", "/templates"))[0]
    await office.staff("vesna", f"/reply {REF} #hvala")
    assert (
        "Хвала на пријави" in office.bot.channel.to("ana")[-1].text
        or "Hvala" in office.bot.channel.to("ana")[-1].text
    )
    assert (
        "Added operator" in (await office.staff("boss", "/staff add test mila operator water"))[0]
    )
    assert "is now in progress" in (await office.staff("mila", f"/progress {REF}"))[0]
    assert "test:mila" in (await office.staff("boss", "/staff list"))[0]
    await office.staff("boss", "/staff remove test mila")
    assert "for municipal staff only" in (await office.staff("mila", f"/resolve {REF}"))[0]


async def test_a_resident_adds_a_comment_and_a_photo(office: Office) -> None:
    await office.report_leak()
    await office.bot.say("ana", Press("rep:1"))
    asked = await office.bot.say("ana", Press("cm:1"))
    assert "Write your comment" in asked[0].text
    await office.bot.say("ana", "It got worse overnight.")
    assert "It got worse overnight." in office.chat(WATER_CHAT)[-1].text
    await office.bot.say("ana", Press("rep:1"))
    await office.bot.say("ana", Press("cm:1"))
    await office.bot.say("ana", Picture(jpeg("navy")))
    assert len(office.chat(WATER_CHAT)[-1].photos) == 1


async def test_two_operators_pressing_at_once_make_one_transition(office: Office) -> None:
    import asyncio

    await office.report_leak()
    await office.staff("boss", "/staff add test mila operator water")
    dispatch = office.bot.app.dispatcher.dispatch
    await asyncio.gather(
        dispatch(office.bot.event("vesna", Press("st:ack:1"))),
        dispatch(office.bot.event("mila", Press("st:ack:1"))),
    )
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert [e.new_status for e in stored.events if e.kind == "status"] == ["acknowledged"]


async def test_an_unanswered_fix_question_closes_the_report_after_seven_days(
    office: Office,
) -> None:
    from bot.scheduler import run_job
    from handlers.jobs import close_unconfirmed

    app = office.bot.app

    await office.report_leak()
    await office.staff("vesna", f"/resolve {REF}")
    office.bot.clock.advance(days=6, hours=23)
    assert await run_job(app.db, app.deps, app.sender, close_unconfirmed) == 0
    office.bot.clock.advance(hours=2)
    assert await run_job(app.db, app.deps, app.sender, close_unconfirmed) == 2
    assert await run_job(app.db, app.deps, app.sender, close_unconfirmed) == 0  # nothing twice
    await app.sender.drain()
    assert "is closed" in office.bot.channel.to("ana")[-1].text
    stored = await reports.get_report(app.db.conn, 1)
    assert stored is not None
    assert stored.status == "closed"


async def test_a_photo_of_the_fix_may_follow_resolve(office: Office) -> None:
    await office.report_leak()
    resolved = await office.bot.say("vesna", f"/resolve {REF} Pipe replaced")
    # In a private chat the question has buttons (skip, cancel) rather than a forced reply.
    assert [b.data for row in resolved[-1].buttons for b in row] == ["sq:skip:1", "sq:cancel:1"]
    assert "photo of the fix" in resolved[-1].text
    sent = await office.bot.say("vesna", Picture(jpeg("green")))
    assert "The photo was sent to the resident" in sent[0].text
    fix = office.bot.channel.to("ana")[-1]
    assert "A photo of the fix" in fix.text
    assert len(fix.photos) == 1
    stored = await reports.get_report(office.bot.app.db.conn, 1)
    assert stored is not None
    assert [e.kind for e in stored.events][-1] == "fix_photo"


async def test_after_resolve_the_operator_can_simply_go_on(office: Office) -> None:
    await office.report_leak()
    await office.bot.say("vesna", f"/resolve {REF}")
    menu = await office.bot.say("vesna", Press("menu:mine"))
    assert "You have not reported anything yet." in menu[0].text

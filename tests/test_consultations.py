"""Consultations, subscriptions, reminders, announcements and SLA escalation, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.municipality import Municipality
from storage import consultations, privacy
from storage.sql import fetch_all
from tests.conftest import (
    REF,
    WATER_CHAT,
    Bot,
    Office,
    OnScreen,
    Picture,
    Press,
    jpeg,
    photo_files,
    read_export,
)
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder


async def run(office: Office, name: str) -> int:
    app = office.bot.app
    return await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, name))


async def resident(office: Office, user: str, *topics: str) -> None:
    await office.bot.say(user, "/start")
    await office.bot.say(user, Press("lang:en"))
    for topic in topics:
        await office.bot.say(user, Press(f"sub:{topic}"))


TITLE = "Action plan for open government"


async def new_consultation(office: Office, starts: str = "17.06.2026 18:00") -> list[str]:
    """The admin's wizard, up to the preview; returns the preview's texts."""
    for answer in [
        "/consult new", "Action plan for open government", "Your ideas for the new plan.",
        starts, starts.replace("18:00", "20:00"), "Town hall, great hall", "https://vlasotince.rs",
    ]:  # fmt: skip
        replies = await office.bot.say("boss", answer)
    return [r.text for r in replies]


async def test_subscriptions_are_switched_with_buttons(office: Office) -> None:
    await resident(office, "ana")
    shown = await office.bot.say("ana", Press("menu:notify"))
    assert next(b.label for row in shown[0].buttons for b in row).startswith("⬜")
    on = await office.bot.say("ana", Press("sub:budget"))
    assert "You will be told about: Budget." in on[0].text
    assert any(b.label == "✅ Budget" for row in on[0].buttons for b in row)
    off = await office.bot.say("ana", "/unsubscribe")
    assert "All notifications are off" in off[0].text
    assert "⬜ Budget" in [
        b.label for row in (await office.bot.say("ana", "/subscribe"))[0].buttons for b in row
    ]


async def test_a_consultation_round_trip(office: Office) -> None:
    await resident(office, "ana", "consultations")
    await resident(office, "bob", "consultations")
    await resident(office, "cim", "budget")
    preview = await new_consultation(office)
    assert "Announce this to 2 subscribers?" in preview[0]
    sent = await office.bot.say("boss", OnScreen("cwiz:ok"))
    assert "Sending: 0 / 2" in sent[0].text
    announced = office.bot.channel.to("ana")[-1]
    assert "Action plan for open government" in announced.text
    assert "\n🕒 17 Jun 2026, 18:00 - 20:00\n" in announced.text
    assert office.bot.channel.to("cim")[-1].text != announced.text
    await run(office, "broadcast-progress")
    await office.bot.app.sender.drain()
    assert "Delivered: 2" in office.bot.channel.to("boss")[-1].text
    assert office.bot.channel.edits  # the progress line was edited in place

    consultation = announced.buttons[0][0].data
    details = await office.bot.say("ana", Press(consultation))
    actions = [b.data for row in details[0].buttons for b in row]
    assert "We will remind you" in (await office.bot.say("ana", Press(actions[0])))[0].text
    assert "you will attend" in (await office.bot.say("bob", Press(actions[1])))[0].text
    await office.bot.say("ana", Press(actions[2]))
    await office.bot.say("ana", "Please add more benches in the park.")
    to_admin = office.bot.channel.to("boss")[-1].text
    assert "Please add more benches" in to_admin
    comment_id = to_admin.split("#")[1].split(" ")[0]
    assert (
        "The answer was sent."
        in (await office.bot.say("boss", f"/answer {comment_id} We will."))[0].text
    )
    assert "We will." in office.bot.channel.to("ana")[-1].text
    mine = await office.bot.say("ana", Press("mycom"))
    assert "Please add more benches" in mine[0].text
    assert "We will." in mine[0].text

    # Reminders: 24 hours and 1 hour before, once each, only to those who asked.
    office.bot.clock.moment = datetime(2026, 6, 16, 16, 30, tzinfo=UTC)  # 18:30 in Belgrade
    assert await run(office, "consultation-reminders") == 1
    assert await run(office, "consultation-reminders") == 0
    await office.bot.app.sender.drain()
    assert office.bot.channel.to("ana")[-1].text == (
        "⏰ Reminder: Action plan for open government starts at 17 Jun 2026, 18:00,"
        " Town hall, great hall."
    )
    office.bot.clock.moment = datetime(2026, 6, 17, 15, 10, tzinfo=UTC)  # 17:10
    assert await run(office, "consultation-reminders") == 1
    office.bot.clock.moment = datetime(2026, 6, 17, 19, 0, tzinfo=UTC)  # after it ended
    minutes = await office.bot.say(
        "boss", f"/minutes {consultation.split(':')[1]} 40 people came; 12 proposals."
    )
    assert "Sending" in minutes[0].text
    for user in ("ana", "bob"):
        assert "40 people came" in office.bot.channel.to(user)[-1].text
    assert "40 people came" not in office.bot.channel.to("cim")[-1].text


async def test_residents_and_operators_cannot_announce(office: Office) -> None:
    await resident(office, "ana")
    assert "for municipal staff only" in (await office.bot.say("ana", "/announce communal"))[0].text
    assert "for municipal staff only" in (await office.bot.say("vesna", "/consult new"))[0].text


async def test_an_announcement_with_preview_progress_and_outcome(office: Office) -> None:
    for user in ("ana", "bob", "cim"):
        await resident(office, user, "communal")
    asked = await office.bot.say("boss", "/announce communal")
    assert "Write the announcement" in asked[0].text
    preview = await office.bot.say("boss", "No water on Monday from 8 to 14 in the centre.")
    assert "Send this to 3 subscribers?" in preview[0].text
    await office.bot.say("boss", OnScreen("an:ok"))
    for user in ("ana", "bob", "cim"):
        assert "No water on Monday" in office.bot.channel.to(user)[-1].text
    assert await run(office, "broadcast-progress") == 1
    await office.bot.app.sender.drain()
    assert (
        "Delivered: 3, unreachable: 0, failed: 0 (of 3)" in office.bot.channel.to("boss")[-1].text
    )
    assert await run(office, "broadcast-progress") == 0  # finished: no more edits


async def test_a_blocked_resident_is_unsubscribed(office: Office) -> None:
    from handlers.ports import UnreachableError

    await resident(office, "ana", "communal")
    await office.bot.say("boss", "/announce communal")
    await office.bot.say("boss", "Works on Njegoševa street")
    office.bot.channel.failures_for["ana"] = [UnreachableError()]
    await office.bot.say("boss", OnScreen("an:ok"))
    await run(office, "broadcast-progress")
    await office.bot.app.sender.drain()
    assert "unreachable: 1" in office.bot.channel.to("boss")[-1].text
    await office.bot.say("boss", "/announce communal")
    again = await office.bot.say("boss", "Works are over")
    assert "Send this to 0 subscribers?" in again[0].text


async def test_sla_is_flagged_to_the_service_then_escalated_to_the_admins(office: Office) -> None:
    await office.report_leak()  # water: 24-hour SLA
    office.bot.clock.advance(hours=23)
    assert await run(office, "sla") == 0
    office.bot.clock.advance(hours=2)
    assert await run(office, "sla") == 1
    assert await run(office, "sla") == 0
    await office.bot.app.sender.drain()
    assert f"{REF}" in office.chat(WATER_CHAT)[-1].text
    office.bot.clock.advance(hours=24)
    assert await run(office, "sla") == 1  # the admin who has written to the bot
    await office.bot.app.sender.drain()
    assert "twice past its SLA" in office.bot.channel.to("boss")[-1].text
    await office.staff("vesna", f"/ack {REF}")
    office.bot.clock.advance(days=3)
    assert await run(office, "sla") == 0


async def test_the_daily_digest_goes_once_a_day_from_eight(office: Office) -> None:
    await office.report_leak()
    office.bot.clock.moment = datetime(2026, 5, 18, 5, 0, tzinfo=UTC)  # 07:00 in Belgrade
    assert await run(office, "daily-digest") == 0
    office.bot.clock.moment = datetime(
        2026, 5, 18, 9, 30, tzinfo=UTC
    )  # 11:30: the bot was down at 8
    sent = await run(office, "daily-digest")
    assert sent == sum(
        1 for s in office.bot.app.deps.municipality.services.values() if s.staff_chat_id
    )
    assert await run(office, "daily-digest") == 0
    await office.bot.app.sender.drain()
    # Staff chats read the municipality's first language, Serbian.
    assert "Нове пријаве: 1, прекорачен рок: 1" in office.chat(WATER_CHAT)[-1].text


async def test_a_reminder_due_while_the_bot_was_stopped_is_sent_once_after_it_starts(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    channel = CollectingChannel("test")
    async with build_app(
        settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder
    ) as app:
        bot = Bot(app, channel, clock)
        await bot.say("ana", "/start")
        await bot.say("ana", Press("lang:en"))
        listing = await bot.say("ana", "/consultations")
        budget = listing[0].buttons[0][0].data  # the budget hearing of the municipality file
        await bot.say("ana", Press(budget))
        await bot.say("ana", Press(budget.replace("cons:", "cr:")))
    # Stopped. The hearing is on 17 December at 18:00; its 24-hour reminder was due the day before.
    clock.moment = datetime(2026, 12, 17, 8, 0, tzinfo=UTC)
    async with build_app(
        settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder
    ) as app:
        assert (
            await run_job(
                app.db, app.deps, app.sender, find_job(app.deps.registry, "consultation-reminders")
            )
            == 1
        )
        assert (
            await run_job(
                app.db, app.deps, app.sender, find_job(app.deps.registry, "consultation-reminders")
            )
            == 0
        )
        await app.sender.drain()
    assert "Reminder" in channel.to("ana")[-1].text
    clock.moment = datetime(2026, 12, 17, 17, 30, tzinfo=UTC)  # after the start: no 1-hour reminder
    async with build_app(
        settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder
    ) as app:
        assert (
            await run_job(
                app.db, app.deps, app.sender, find_job(app.deps.registry, "consultation-reminders")
            )
            == 0
        )


async def test_a_broadcast_waiting_on_a_retry_is_not_edited_again_and_again(office: Office) -> None:
    from handlers.ports import TemporaryError

    await resident(office, "ana", "communal")
    await office.bot.say("boss", "/announce communal")
    await office.bot.say("boss", "Works on Njegoševa street")
    office.bot.channel.failures_for["ana"] = [TemporaryError("down")]
    await office.bot.say("boss", OnScreen("an:ok"))
    assert await run(office, "broadcast-progress") == 1  # "Sending: 0 / 1"
    assert await run(office, "broadcast-progress") == 0  # nothing changed, nothing edited
    office.bot.clock.advance(seconds=5)
    await office.bot.app.sender.drain()
    assert await run(office, "broadcast-progress") == 1  # delivered: the outcome


async def commenting(office: Office, user: str) -> int:
    """A new consultation announced to ``user``, who pressed its "Send a comment" button."""
    await resident(office, user, "consultations")
    await new_consultation(office)
    await office.bot.say("boss", OnScreen("cwiz:ok"))
    consultation = int(office.bot.channel.to(user)[-1].buttons[0][0].data.split(":")[1])
    await office.bot.play(user, [(Press(f"cc:{consultation}"), ["Write your comment"])])
    return consultation


async def stored_photos(office: Office) -> list[list[str]]:
    """Every comment's photos, the first one first."""
    conn = office.bot.app.db.conn
    ids = [int(r[0]) for r in await fetch_all(conn, "SELECT id FROM consultation_comments")]
    return [await consultations.comment_photos(conn, i) for i in ids]


async def test_a_photos_caption_is_the_comment(office: Office) -> None:
    await commenting(office, "ana")
    await office.bot.play("ana", [
        (Picture(jpeg("red"), caption="A bench by the river, please"), [
            "Thank you! Your comment was sent to the municipality."]),
    ])  # fmt: skip
    to_admin = office.bot.channel.to("boss")[-1]
    assert "A bench by the river, please" in to_admin.text
    assert len(to_admin.photos) == 1
    mine = await office.bot.say("ana", Press("mycom"))
    assert "A bench by the river, please" in mine[0].text
    assert [len(p) for p in await stored_photos(office)] == [1]


async def test_an_albums_photos_all_wait_for_the_comment(office: Office) -> None:
    await commenting(office, "ana")
    await office.bot.play("ana", [
        (Picture(jpeg("red"), album="a1"), ["Photo added. Now write your comment."]),
        (Picture(jpeg("blue"), album="a1"), ["Photo 2 of 3 added."]),
        (Picture(jpeg("green"), album="a1"), ["Photo 3 of 3 added."]),
        (Picture(jpeg("navy"), album="a1"), [
            "A comment has at most 3 photos; this one was not added."]),
        ("Benches and shade along the river", [
            "Thank you! Your comment was sent to the municipality."]),
    ])  # fmt: skip
    to_admin = office.bot.channel.to("boss")[-1]
    assert "Benches and shade along the river" in to_admin.text
    assert len(set(to_admin.photos)) == 3
    (photos,) = await stored_photos(office)
    assert photos == list(to_admin.photos)
    assert photo_files(office.bot.app) == set(photos)  # the refused fourth is not kept


async def test_an_album_with_its_caption_is_one_comment(office: Office) -> None:
    await commenting(office, "ana")
    before = len(office.bot.channel.to("boss"))
    caption = "Shade for the playground, the photos show where"
    await office.bot.play("ana", [
        (Picture(jpeg("red"), caption=caption, album="a2"), [
            "Thank you! Your comment was sent to the municipality."]),
        (Picture(jpeg("blue"), album="a2"), []),
        (Picture(jpeg("green"), album="a2"), []),
        (Picture(jpeg("navy"), album="a2"), [
            "A comment has at most 3 photos; this one was not added."]),
        ("hello", ["Please choose one of the options below."]),  # the album is over
        (Picture(jpeg("white"), album="a3"), ["What kind of problem is it?"]),  # a new report
    ])  # fmt: skip
    (photos,) = await stored_photos(office)
    assert len(set(photos)) == 3
    to_admin = office.bot.channel.to("boss")[before:]
    assert caption in to_admin[0].text
    assert [r.text for r in to_admin[1:]] == ["📷 Another photo of comment #1 on " + TITLE] * 2
    assert [p for r in to_admin for p in r.photos] == photos
    # The refused fourth is not kept; the new report's photo waits in its draft.
    on_disk = sorted(photo_files(office.bot.app))
    assert len(on_disk) == 4
    assert await privacy.unused_photos(office.bot.app.db.conn, on_disk) == ()


async def test_an_albums_first_photo_refused_leaves_the_next_one_first(office: Office) -> None:
    await commenting(office, "ana")
    await office.bot.play("ana", [
        (Picture(b"not a picture", caption="Shade, please", album="a5"), [
            "not a picture I can read", "Thank you! Your comment was sent to the municipality."]),
        (Picture(jpeg("blue"), album="a5"), []),
        (Picture(jpeg("green"), album="a5"), []),
        (Picture(jpeg("navy"), album="a5"), []),
        (Picture(jpeg("white"), album="a5"), [
            "A comment has at most 3 photos; this one was not added."]),
    ])  # fmt: skip
    conn = office.bot.app.db.conn
    rows = await fetch_all(conn, "SELECT photo FROM consultation_comments")
    later = await fetch_all(
        conn, "SELECT position, path FROM consultation_comment_photos ORDER BY position"
    )
    (photos,) = await stored_photos(office)
    assert len(set(photos)) == 3
    assert [r[0] for r in rows] == photos[:1]  # the first kept photo is the comment's photo
    assert [(int(r[0]), str(r[1])) for r in later] == [(1, photos[1]), (2, photos[2])]
    assert photo_files(office.bot.app) == set(photos)


async def test_deleteme_takes_a_comments_album_with_it(office: Office) -> None:
    await commenting(office, "ana")
    await office.bot.say("ana", Picture(jpeg("red"), caption="Shade, please", album="a4"))
    await office.bot.say("ana", Picture(jpeg("blue"), album="a4"))
    _text, exported = read_export(office.bot, await office.bot.say("ana", "/mydata"))
    (comment,) = exported["consultation_comments"]
    (photos,) = await stored_photos(office)
    assert [comment["photo"], *comment["later_photos"]] == photos
    data = office.bot.app.db.path
    assert data is not None
    files = [data.parent / p for p in photos]
    assert all(f.exists() for f in files)
    await office.bot.say("ana", "/deleteme")
    await office.bot.say("ana", Press("erase:yes"))
    assert not any(f.exists() for f in files)
    assert (
        await fetch_all(office.bot.app.db.conn, "SELECT * FROM consultation_comment_photos") == []
    )


async def test_a_latin_reader_gets_the_files_consultation_in_latin(office: Office) -> None:
    # The municipality file writes its hearing in Cyrillic; a resident who chose Latin reads the
    # title, description and place in Latin: in its details, the confirmation and the reminder.
    bot = office.bot
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:sr-Latn"))
    listing = await bot.say("ana", "/consultations")
    hearing = listing[0].buttons[0][0].data
    details = await bot.say("ana", Press(hearing))
    assert details[0].text.splitlines()[:2] == [
        "📣 Javna rasprava o nacrtu budžeta opštine za 2027. godinu",
        "Predstavljanje nacrta budžeta i prikupljanje predloga građana, u skladu sa lokalnim"
        " akcionim planom Partnerstva za otvorenu upravu.",
    ]
    assert "📍 Velika sala Skupštine opštine Vlasotince" in details[0].text
    remind = await bot.say("ana", Press(hearing.replace("cons:", "cr:")))
    assert remind[0].text == (
        "Podsetićemo vas pre nego što počne „Javna rasprava o nacrtu budžeta opštine za 2027."
        " godinu“."
    )
    bot.clock.moment = datetime(2026, 12, 16, 18, 30, tzinfo=UTC)
    assert await run(office, "consultation-reminders") == 1
    await bot.app.sender.drain()
    reminder = bot.channel.to("ana")[-1].text
    assert "Javna rasprava o nacrtu budžeta opštine" in reminder
    assert "Velika sala Skupštine opštine Vlasotince" in reminder


async def test_the_send_button_of_an_earlier_preview_sends_nothing(office: Office) -> None:
    # An admin previews an announcement, then starts another and previews it: the first
    # preview's Send must not send the second text (nor the first): it is no longer valid.
    await resident(office, "ana", "communal", "consultations")
    bot = office.bot
    await bot.say("boss", "/announce communal")
    await bot.say("boss", "Water is off on Monday.")
    first = bot.button("boss", "an:ok")
    await bot.say("boss", "/announce consultations")
    await bot.say("boss", "A hearing on the plan on Friday.")
    second = bot.button("boss", "an:ok")
    received = len(bot.channel.to("ana"))

    stale = await bot.say("boss", first)

    assert [r.text for r in stale] == [
        "That button is no longer valid.",
        "Please send or cancel the announcement with the buttons.",
    ]
    # The hint keeps the current preview's buttons (not the main menu's).
    assert stale[-1].buttons[0][0].data == second.data
    assert len(bot.channel.to("ana")) == received
    await bot.say("boss", second)
    assert bot.channel.to("ana")[-1].text == (
        "📢 Public consultations\n\nA hearing on the plan on Friday."
    )


async def test_the_admins_get_the_comments_consultation_in_their_script(office: Office) -> None:
    # The file's hearing is written in Cyrillic; the admins' notice (in the staff language of
    # the test municipality, English) names it in Latin.
    bot = office.bot
    await resident(office, "ana")
    listing = await bot.say("ana", "/consultations")
    hearing = listing[0].buttons[0][0].data
    await bot.say("ana", Press(hearing))
    await bot.say("ana", Press(hearing.replace("cons:", "cc:")))
    await bot.say("ana", "More benches in the park, please.")
    notice = bot.channel.to("boss")[-1].text
    assert notice.splitlines()[0] == (
        "💬 Comment #1 on Javna rasprava o nacrtu budžeta opštine za 2027. godinu:"
    )

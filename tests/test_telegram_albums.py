"""Albums through the real python-telegram-bot: each photo is its own update, one media group."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage import consultations, reports
from storage.sql import fetch_all
from tests.conftest import HYGIENE_CHAT, Running, eventually, jpeg, photo_files
from tests.test_telegram import confirmed_past

ANA = 5001
BINS = "Bins behind the school are full"
WHAT_KIND = "What kind of problem is it?"


async def in_english(running: Running) -> None:
    running.fake.push_command(ANA, "start")
    await running.wait_text(ANA, "Изаберите")
    running.fake.push_callback(ANA, "lang:en")
    await running.wait_text(ANA, "Welcome")
    await running.app.sender.drain()


async def send_album(running: Running, album: str, colours: list[str], caption: str) -> list[str]:
    """Send the photos as one album (the caption on the first); return what the bot answered."""
    before = len(running.fake.sent_messages(ANA))
    first, *rest = colours
    last = running.fake.push_photo(ANA, jpeg(first), caption=caption, media_group_id=album)
    for colour in rest:
        last = running.fake.push_photo(ANA, jpeg(colour), media_group_id=album)
    await confirmed_past(running, last)
    await running.app.sender.drain()
    return running.texts(ANA)[before:]


async def test_an_album_from_the_menu_is_one_report_asked_about_once(running: Running) -> None:
    await in_english(running)
    answered = await send_album(running, "album-1", ["red", "blue", "green", "navy"], BINS)
    assert answered == [
        "Photo 1 of 3 added.",
        WHAT_KIND,
        "Photo 2 of 3 added.",
        "Photo 3 of 3 added.",
        "A report has at most 3 photos; this one was not added.",
    ]
    running.fake.push_callback(ANA, "cat:garbage")
    await running.wait_text(ANA, "Where is the problem?")
    running.fake.push_location(ANA, 42.9661, 22.1290)
    await running.wait_text(ANA, "Please check your report")
    running.fake.push_callback(ANA, "sum:confirm")
    await running.wait_text(ANA, "VLA-2026-00001")
    stored = await reports.get_report(running.app.db.conn, 1)
    assert stored is not None
    assert (stored.category, stored.description) == ("garbage", BINS)
    assert len(set(stored.photo_paths)) == 3
    assert [r[0] for r in await fetch_all(running.app.db.conn, "SELECT ref FROM reports")] == [
        "VLA-2026-00001"
    ]


async def test_an_album_sent_as_a_comment_is_one_comment_with_its_caption(
    running: Running,
) -> None:
    await in_english(running)
    await send_album(running, "album-1", ["red"], BINS)  # a one-photo report first
    running.fake.push_callback(ANA, "cat:garbage")
    await running.wait_text(ANA, "Where is the problem?")
    running.fake.push_location(ANA, 42.9661, 22.1290)
    await running.wait_text(ANA, "Please check your report")
    running.fake.push_callback(ANA, "sum:confirm")
    await running.wait_text(ANA, "VLA-2026-00001")
    running.fake.push_callback(ANA, "rep:1")
    await running.wait_text(ANA, "History:")
    running.fake.push_callback(ANA, "cm:1")
    await running.wait_text(ANA, "Write your comment on VLA-2026-00001")
    await running.app.sender.drain()
    staff_before = len(running.fake.sent_messages(int(HYGIENE_CHAT)))
    still = "Still full today, and more bags beside them"
    answered = await send_album(running, "album-2", ["gray", "teal", "olive", "maroon"], still)
    assert answered == [
        "Your comment was added to VLA-2026-00001.",
        "A comment has at most 3 photos; this one was not added.",
    ]
    stored = await reports.get_report(running.app.db.conn, 1)
    assert stored is not None
    comments = [(e.text, e.photo is not None) for e in stored.events if e.kind == "comment"]
    assert comments == [(still, True), (None, True), (None, True)]
    kept = {*stored.photo_paths, *(e.photo for e in stored.events if e.photo)}
    assert photo_files(running.app) == kept  # the refused fourth is not kept on disk
    assert [r[0] for r in await fetch_all(running.app.db.conn, "SELECT ref FROM reports")] == [
        "VLA-2026-00001"
    ]
    to_staff = running.fake.sent_messages(int(HYGIENE_CHAT))[staff_before:]
    assert any(still in str(m.get("caption") or m.get("text") or "") for m in to_staff)
    # The album is over: what comes next is taken as in the main menu.
    before = len(running.fake.sent_messages(ANA))
    last = running.fake.push_text(ANA, "hello")
    await confirmed_past(running, last)
    await running.app.sender.drain()
    assert running.texts(ANA)[before:][-1] == "What would you like to do?"
    assert await send_album(running, "album-3", ["white"], "") == ["Photo 1 of 3 added.", WHAT_KIND]


ADMIN = 100000101  # the admin of config/vlasotince.toml


async def test_an_album_sent_as_a_consultation_comment_is_one_comment_with_its_caption(
    running: Running,
) -> None:
    fake, conn = running.fake, running.app.db.conn
    await in_english(running)
    fake.push_command(ADMIN, "start")
    fake.push_callback(ADMIN, "lang:en")
    await running.wait_text(ADMIN, "Welcome")
    starts = datetime.now(ZoneInfo("Europe/Belgrade")) + timedelta(days=2)
    fake.push_command(ADMIN, "consult", "new")
    for answer in [
        "Parks of Vlasotince", "Where should the new benches go?",
        starts.strftime("%d.%m.%Y %H:%M"), (starts + timedelta(hours=2)).strftime("%d.%m.%Y %H:%M"),
        "Town hall", "-",
    ]:  # fmt: skip
        fake.push_text(ADMIN, answer)
    await running.wait_text(ADMIN, "Announce this to")
    (ok,) = [b for b in running.buttons(ADMIN) if b.startswith("cwiz:ok:")]
    fake.push_callback(ADMIN, ok)
    find = "SELECT id FROM consultations WHERE title = 'Parks of Vlasotince'"

    async def stored() -> bool:
        return bool(await fetch_all(conn, find))

    await eventually(stored, "the consultation is stored")
    (row,) = await fetch_all(conn, find)
    fake.push_callback(ANA, f"cc:{row[0]}")
    await running.wait_text(ANA, "Write your comment or proposal on Parks of Vlasotince")
    await running.app.sender.drain()
    admin_before = len(fake.sent_messages(ADMIN))
    caption = "Benches in the shade by the river, where the photos show"
    answered = await send_album(running, "album-c", ["red", "blue", "green", "navy"], caption)
    assert answered[0].startswith("Thank you! Your comment was sent to the municipality.")
    assert answered[1:] == ["A comment has at most 3 photos; this one was not added."]
    (comment,) = await fetch_all(conn, "SELECT id, text FROM consultation_comments")
    assert comment[1] == caption
    photos = await consultations.comment_photos(conn, int(comment[0]))
    assert len(set(photos)) == 3
    to_admin = fake.sent_messages(ADMIN)[admin_before:]
    assert sum(1 for m in to_admin if m.get("photo")) == 3
    assert any(caption in str(m.get("text") or "") for m in to_admin)

"""Voice notes: stored checked and without tags, the description of a report, a comment, an
answer and a staff reply; on the staff card, in the e-mail, and erased with the resident."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.channels.email import EmailChannel, SmtpSettings
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.events import Reply, Sender, Voice
from handlers.i18n import translator
from handlers.municipality import Municipality
from handlers.voice import voice_line
from storage import reports
from storage.sql import fetch_all
from storage.voices import (
    FOLDER,
    MAX_VOICE_BYTES,
    MAX_VOICE_SECONDS,
    EmptyVoiceError,
    InvalidVoiceError,
    VoiceStore,
    VoiceTooLargeError,
    VoiceTooLongError,
)
from tests.audio import ogg_opus
from tests.conftest import REF, WATER_CHAT, DialogInput, Office, Pin, Press, Recording, Running
from tests.dialogs import ANA, viber_app, viber_recording
from tests.dialogs import Running as ViberRunning
from tests.fakes.ports import FakeGeocoder
from tests.fakes.viber_api import conversation_started

ATTACHED = "🎤 A voice message is attached."


def staff_line(m: Municipality) -> str:
    """The line as staff read it, in the municipality's staff language."""
    return voice_line(translator(m.staff_language))


def test_the_store_keeps_a_voice_note_once_without_its_tags(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    note = ogg_opus(12.4, {"TITLE": "Snimak kod Aninog dvorista"})
    first, again = store.save(note), store.save(note)
    assert first == again
    assert first.seconds == 12
    assert first.path.startswith("voice/")
    assert first.path.endswith(".ogg")
    stored = (tmp_path / first.path).read_bytes()
    assert b"Aninog" not in stored
    assert stored.startswith(b"OggS")
    assert [p.name for p in (tmp_path / "voice").rglob("*") if p.is_file()] == [
        Path(first.path).name
    ]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", EmptyVoiceError),
        (ogg_opus(0.1), EmptyVoiceError),
        (b"OggS\x00 the first bytes of a voice note only", InvalidVoiceError),
        (ogg_opus(5)[:70], InvalidVoiceError),
        (b"\xff\xd8\xff\xe0 a JPEG, not a voice note", InvalidVoiceError),
        (ogg_opus(301), VoiceTooLongError),
        (bytes(MAX_VOICE_BYTES + 1), VoiceTooLargeError),
    ],
)
def test_the_store_refuses_what_is_no_voice_note(
    tmp_path: Path, content: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        VoiceStore(tmp_path).save(content)
    assert not (tmp_path / "voice").exists()


def voice_report(note: bytes, category: str = "water_sewage") -> list[DialogInput]:
    return [
        "/start", Press("lang:en"), Press("menu:report"), Press(f"cat:{category}"),
        Recording(note, 3), Press("photos:skip"), Pin(42.9661, 22.1290), Press("sum:confirm"),
    ]  # fmt: skip


async def test_the_card_and_the_mail_carry_the_voice_note(
    office: Office, settings: Settings
) -> None:
    for item in voice_report(ogg_opus(3)):
        await office.bot.say("ana", item)
    report = await reports.find_by_ref(office.bot.app.db.reader, REF)
    assert report is not None
    assert report.voice is not None
    card = next(r for r in office.chat(WATER_CHAT) if r.key.startswith("card:"))
    assert card.voice == report.voice
    assert staff_line(office.bot.app.deps.municipality) in card.text
    ((address, mail),) = office.mail.sent
    assert mail.voice == report.voice
    assert staff_line(office.bot.app.deps.municipality) in mail.text
    smtp = SmtpSettings("127.0.0.1", 25, "bot@vlasotince.example.org")
    composed = EmailChannel(smtp, settings.data_dir).compose(address, mail)
    (attachment,) = list(composed.iter_attachments())
    assert attachment.get_content_type() == "audio/ogg"
    assert attachment.get_content() == (settings.data_dir / report.voice).read_bytes()


async def test_a_voice_note_from_the_main_menu_starts_a_report_with_it(office: Office) -> None:
    bot = office.bot
    for item in ("/start", Press("lang:en"), Press("menu:main")):
        await bot.say("ana", item)
    too_long = await bot.say("ana", Recording(ogg_opus(2), MAX_VOICE_SECONDS + 1))
    assert "longer than 5 minutes" in too_long[0].text
    assert next(b.data for row in too_long[-1].buttons for b in row) == "menu:report"
    await bot.play(
        "ana",
        [
            (Recording(ogg_opus(4), 4), [
                "Your voice message is the description", "What kind of problem is it?"
            ]),
            (Press("cat:water_sewage"), ["Send up to 3 photos"]),  # not asked to describe it
            (Press("photos:skip"), ["Where is the problem?"]),
            (Pin(42.9661, 22.1290), ["Please check your report"]),
            (Press("sum:confirm"), [REF]),
        ],
    )  # fmt: skip
    report = await reports.find_by_ref(office.bot.app.db.reader, REF)
    assert report is not None
    assert (report.category, report.description) == ("water_sewage", "")
    assert report.voice is not None
    card = next(r for r in office.chat(WATER_CHAT) if r.key.startswith("card:"))
    assert card.voice == report.voice


async def test_a_comment_an_answer_and_a_staff_reply_may_be_voice_notes(office: Office) -> None:
    await office.report_leak()
    bot = office.bot
    await bot.say("ana", Press("rep:1"))
    await bot.say("ana", Press("cm:1"))
    (added,) = await bot.say("ana", Recording(ogg_opus(2), 2))
    assert "Your comment was added to" in added.text
    notice = office.chat(WATER_CHAT)[-1]
    assert staff_line(bot.app.deps.municipality) in notice.text
    assert notice.voice.startswith("voice/")

    await office.staff("vesna", f"/ask {REF} Is the water brown or clear?")
    (broken,) = await bot.say("ana", Recording(b"OggS\x00 broken"))
    assert "could not play that voice message" in broken.text
    thanks = await bot.say("ana", Recording(ogg_opus(3), 3))
    assert "your answer was added" in thanks[0].text
    answer = office.chat(WATER_CHAT)[-1]
    assert staff_line(bot.app.deps.municipality) in answer.text
    assert answer.voice.startswith("voice/")

    await office.staff("vesna", Press("st:reply:1"))  # type: ignore[arg-type]
    sent = await office.bot.say("vesna", Recording(ogg_opus(4), 4))
    assert "The answer was sent to the resident" in sent[0].text
    told = bot.channel.to("ana")[-1]
    assert told.voice.startswith("voice/")
    assert ATTACHED in told.text

    stored = await reports.get_report(bot.app.db.reader, 1)
    assert stored is not None
    voiced = [e.kind for e in stored.events if e.voice]
    assert voiced == ["comment", "answer", "reply"]
    assert len({e.voice for e in stored.events if e.voice}) == 3


async def test_deleteme_erases_the_voice_notes_unless_kept_as_evidence(
    office: Office, settings: Settings
) -> None:
    bot = office.bot
    for item in voice_report(ogg_opus(3)):
        await bot.say("ana", item)
    for item in voice_report(ogg_opus(6), "garbage")[2:]:  # not the same problem: no offer
        await bot.say("ana", item)
    await bot.say("ana", Press("rep:1"))
    await bot.say("ana", Press("cm:1"))
    await bot.say("ana", Recording(ogg_opus(2), 2))
    await office.staff("boss", "/evidence VLA-2026-00002")
    rows = await fetch_all(
        bot.app.db.reader,
        "SELECT voice FROM reports"
        " UNION ALL SELECT voice FROM report_events WHERE voice IS NOT NULL",
    )
    first, kept, comment = (str(r[0]) for r in rows)
    await bot.say("ana", "/deleteme")
    await bot.say("ana", Press("erase:yes"))
    data_dir = settings.data_dir
    assert not (data_dir / first).exists()
    assert not (data_dir / comment).exists()
    assert (data_dir / kept).exists()
    left = await fetch_all(
        bot.app.db.reader,
        "SELECT voice FROM reports WHERE voice IS NOT NULL"
        " UNION ALL SELECT voice FROM report_events WHERE voice IS NOT NULL",
    )
    assert [str(r[0]) for r in left] == [kept]


# ------------------------------------------------------------ through the messengers

GROUP = -1001000000105  # the hygiene service's staff chat (garbage) in config/vlasotince.toml
RESIDENT = 5001


async def test_telegram_voice_notes_go_to_the_staff_group_with_send_voice(
    running: Running, settings: Settings
) -> None:
    fake = running.fake
    fake.add_chat(GROUP, "Чистоћа — пријаве", "supergroup")
    for data in ("lang:en", "menu:report", "cat:garbage"):
        fake.push_callback(RESIDENT, data)
    await running.wait_text(RESIDENT, "Describe the problem")
    fake.push_voice(RESIDENT, ogg_opus(7), duration=7)
    await running.wait_text(RESIDENT, "Send up to 3 photos")
    fake.push_callback(RESIDENT, "photos:skip")
    fake.push_location(RESIDENT, 42.9661, 22.1290)
    await running.wait_text(RESIDENT, "Please check your report")
    fake.push_callback(RESIDENT, "sum:confirm")
    await running.wait_text(RESIDENT, REF)
    await running.wait_text(GROUP, REF)
    report = await reports.find_by_ref(running.app.db.reader, REF)
    assert report is not None
    assert report.voice is not None
    voice, card = fake.sent_messages(GROUP)[-2:]
    assert (
        fake.file(voice["voice"]["file_id"]).content
        == (settings.data_dir / report.voice).read_bytes()
    )
    assert staff_line(running.app.deps.municipality) in card["text"]


async def test_telegram_refuses_a_voice_note_too_large_to_download(running: Running) -> None:
    fake = running.fake
    for data in ("lang:en", "menu:report", "cat:garbage"):
        fake.push_callback(RESIDENT, data)
    await running.wait_text(RESIDENT, "Describe the problem")
    fake.clear_calls()
    fake.push_voice(RESIDENT, bytes(MAX_VOICE_BYTES + 1), duration=30)
    await running.wait_text(RESIDENT, "larger than 5 MB")
    assert fake.calls_of("getFile") == []  # not downloaded in vain


@pytest.fixture
async def viber(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[ViberRunning]:
    async with viber_app(settings, municipality, geocoder) as app:
        status, body = await app.post(conversation_started(ANA))
        assert status == 200
        app.welcome = json.loads(body)
        await app.say(app.press("lang:en"), "Welcome")
        await app.say(app.press("menu:main"), "")  # not now to the topics offered once
        yield app


async def test_viber_takes_a_recording_sent_as_a_file(viber: ViberRunning) -> None:
    for data in ("menu:report", "cat:garbage"):
        await viber.say(viber.press(data), "")
    await viber.say(viber_recording(viber.fake, ANA, ogg_opus(5)), "Send up to 3 photos")
    await viber.say(viber.press("photos:skip"), "Where is the problem?")


async def test_viber_gets_a_voice_note_as_a_file_it_can_fetch(
    viber: ViberRunning, settings: Settings
) -> None:
    stored = viber.app.deps.voices.save(ogg_opus(3))
    await viber.channel.send(ANA, Reply("The municipality answered", voice=stored.path))
    file, text = viber.fake.sent_to(ANA)[-2:]
    assert (file["type"], text["text"]) == ("file", "The municipality answered")
    assert file["file_name"].endswith(".ogg")
    content = (settings.data_dir / stored.path).read_bytes()
    assert file["size"] == len(content)
    async with aiohttp.ClientSession() as http:
        async with http.get(file["media"]) as response:
            assert response.status == 200
            assert await response.read() == content
        forged = file["media"].replace("/voice/", "/photos/")
        async with http.get(forged) as response:
            assert response.status == 404


def voice_files(office: Office) -> list[Path]:
    db = office.bot.app.db.path
    assert db is not None
    return sorted((db.parent / FOLDER).rglob("*.*"))


async def test_voice_notes_nobody_names_are_not_kept(office: Office) -> None:
    """A staff member's voice note in a staff group is not stored; one a refused report start
    stored before the transaction is deleted once a day old, and those rows name stay."""
    bot = office.bot
    await office.report_leak("ana")
    await bot.say("ana", Press("rep:1"))
    await bot.say("ana", Press("cm:1"))
    await bot.say("ana", Recording(ogg_opus(2), 2))
    (commented,) = voice_files(office)
    group = Sender("test", "vesna", WATER_CHAT, "Vesna", group=True)
    await bot.app.dispatcher.dispatch(Voice(group, "voice-group", ogg_opus(5), 5000, 5))
    assert voice_files(office) == [commented]

    ana = await fetch_all(bot.app.db.reader, "SELECT id FROM users WHERE external_id = 'ana'")
    async with bot.app.db.transaction() as conn:
        for _ in range(bot.app.deps.municipality.reports_per_hour):
            await conn.execute(
                "INSERT INTO report_starts (user_id, at) VALUES (?, ?)",
                (ana[0][0], bot.clock.now().isoformat()),
            )
    await bot.say("ana", Press("menu:main"))
    refused = await bot.say("ana", Recording(ogg_opus(4), 4))
    assert "Please wait a while" in refused[0].text
    assert len(voice_files(office)) == 2  # saved before the step refused it

    sweep = find_job(bot.app.deps.registry, "privacy-unused-voice")
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, sweep)
    assert len(voice_files(office)) == 2  # not a day old yet: maybe in a draft being saved
    bot.clock.advance(days=2)
    day_ago = (bot.clock.now() - timedelta(days=1, minutes=1)).timestamp()
    for file in voice_files(office):
        os.utime(file, (day_ago, day_ago))
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, sweep)
    assert voice_files(office) == [commented]

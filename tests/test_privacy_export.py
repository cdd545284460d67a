"""/mydata: everything stored about a resident, as two private files that are deleted once sent;
through the real python-telegram-bot (sendDocument) and viberbot (a signed, expiring URL)."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.app import App
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.municipality import Municipality
from storage import exports, privacy
from storage.sql import fetch_all, fetch_one
from tests.conftest import REF, Bot, Office, Press, Running, read_export
from tests.dialogs import ANA, viber_app
from tests.dialogs import Running as ViberRunning
from tests.fakes.ports import FakeGeocoder
from tests.fakes.telegram_api import Call, JSONDict
from tests.fakes.viber_api import conversation_started, message_text

# Columns that name a person or reach them: ids, chats, staff marks, contact details.
PERSONAL = re.compile(
    r"^(user_id|chat_id|external_id|actor_id|resident\w*|\w+_by|first_name|last_name|email|phone)$"
)
COMMENT = "It got worse overnight."
NOW = "2026-05-17T09:00:00+00:00"


def resident_columns(db: Path) -> set[tuple[str, str]]:
    """Every column of the schema named like a person's id or contact, or pointing at users."""
    found: set[tuple[str, str]] = set()
    with sqlite3.connect(db) as conn:
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            found |= {
                (table, str(c[1]))
                for c in conn.execute(f"PRAGMA table_info({table})")
                if PERSONAL.match(str(c[1]))
            }
            found |= {
                (table, str(fk[3]))
                for fk in conn.execute(f"PRAGMA foreign_key_list({table})")
                if fk[2] == "users"
            }
    return found


async def test_every_column_about_a_resident_is_exported_or_said_why(bot: Bot) -> None:
    db = bot.app.db.path
    assert db is not None
    columns = resident_columns(db)
    named = set(privacy.EXPORTED) | set(privacy.NOT_EXPORTED)
    missing = columns - named
    assert not missing, (
        f"{sorted(missing)} name a resident: export them in storage/privacy.personal_data and"
        " EXPORTED, or say in NOT_EXPORTED why they are not personal"
    )
    assert not set(privacy.EXPORTED) & set(privacy.NOT_EXPORTED)
    assert named <= columns, f"{sorted(named - columns)} are not in the schema"


async def user_id(office: Office, name: str) -> int:
    row = await fetch_one(
        office.bot.app.db.conn, "SELECT id FROM users WHERE external_id = ?", (name,)
    )
    assert row is not None
    return int(row[0])


async def seed_the_other_features(office: Office, who: str, report_id: int, n: int) -> None:
    """Rows of ``who`` in every feature's tables, each text carrying ``who``'s token."""
    uid = await user_id(office, who)
    token = f"{who}-token"
    now, i = NOW, 900 + n  # ids clear of the municipality file's rows
    await run_sql(
        office,
        f"""
            INSERT INTO report_contacts (report_id, first_name, last_name, email, phone,
                email_consent) VALUES ({report_id}, '{token}-first', '{token}-last',
                '{token}@example.org', '+381 {n}', 1);
            INSERT INTO consultations (id, title, description, starts_at, ends_at, place,
                budget_year, created_at) VALUES ({100 + n}, 'Budget {token}', '', '{now}',
                '{now}', 'Hall', 2027, '{now}');
            INSERT INTO consultation_participants (consultation_id, user_id, remind, attend)
                VALUES ({100 + n}, {uid}, 1, 1);
            INSERT INTO reminders_sent (consultation_id, user_id, minutes_before, at)
                VALUES ({100 + n}, {uid}, 60, '{now}');
            INSERT INTO consultation_comments (consultation_id, user_id, text, at, program, cost)
                VALUES ({100 + n}, {uid}, '{token} proposes a playground', '{now}', '1102',
                500000);
            INSERT INTO pb_rounds (id, title, total, created_at) VALUES ({i}, 'Round {token}',
                1000000, '{now}');
            INSERT INTO pb_projects (id, round_id, name, cost) VALUES ({i}, {i},
                'Lights {token}', 300000);
            INSERT INTO pb_votes (round_id, user_id, project_id, at) VALUES ({i}, {uid}, {i},
                '{now}');
            INSERT INTO plan_measures (id, key, position, title, status, progress, updated_at)
                VALUES ({i}, 'X{i}', {i}, 'Measure {token}', 'in_progress', 10, '{now}');
            INSERT INTO plan_followers (measure_id, user_id, at) VALUES ({i}, {uid}, '{now}');
            INSERT INTO plan_comments (measure_id, user_id, text, at)
                VALUES ({i}, {uid}, 'When, asks {token}?', '{now}');
            INSERT INTO social_questions (user_id, text, at)
                VALUES ({uid}, 'Private question of {token}', '{now}');
            INSERT INTO social_feedback_given (user_id, right_key) VALUES ({uid}, 'right-{who}');
            INSERT INTO library_follows (user_id, kind, value, at)
                VALUES ({uid}, 'author', 'Author {token}', '{now}');
            INSERT INTO library_readers (user_id, mode) VALUES ({uid}, 'instant');
            INSERT INTO library_suggestions (id, title, author, match_key, user_id, created_at)
                VALUES ({i}, 'Book number {n}', 'Writer {n}', 'k{n}', {uid}, '{now}');
        """,
    )


async def seed_each_others(office: Office) -> None:
    """Ana follows Bob's report and wants Bob's book too, and Bob Ana's."""
    for who, other in (("ana", 2), ("bob", 1)):
        uid = await user_id(office, who)
        await run_sql(
            office,
            f"""
            INSERT INTO library_supporters (suggestion_id, user_id, reason, at)
                VALUES ({900 + other}, {uid}, 'Because of {who}-token', '{NOW}');
            INSERT INTO report_followers (report_id, user_id, at) VALUES ({other}, {uid}, '{NOW}');
        """,
        )


async def run_sql(office: Office, script: str) -> None:
    """Run statements in one transaction (executescript would commit on its own)."""
    async with office.bot.app.db.transaction() as conn:
        for statement in filter(str.strip, script.split(";")):
            await conn.execute(statement)


async def export_paths(office: Office) -> list[str]:
    rows = await fetch_all(
        office.bot.app.db.conn,
        "SELECT json_extract(payload, '$.document.path') FROM outbox"
        " WHERE json_extract(payload, '$.document') IS NOT NULL ORDER BY id",
    )
    return [str(r[0]) for r in rows]


async def test_mydata_sends_two_private_files_with_everything_and_nobody_elses(
    office: Office,
) -> None:
    bot, app = office.bot, office.bot.app
    await office.report_leak("ana")
    await bot.say("ana", "/subscribe")
    await bot.say("ana", Press("sub:budget"))
    await bot.say("ana", Press("rep:1"))
    await bot.say("ana", Press("cm:1"))
    await bot.say("ana", COMMENT)
    await office.report_leak("bob", again=True)
    await bot.say("bob", Press("rep:1"))
    await bot.say("bob", Press("cm:1"))
    await bot.say("bob", "Bob says the pipe is older than him.")
    await seed_the_other_features(office, "ana", 1, 1)
    await seed_the_other_features(office, "bob", 2, 2)
    await seed_each_others(office)

    replies = await bot.say("ana", "/mydata")
    assert "two files" in replies[0].text
    readable, exported = read_export(bot, replies)

    # Every table that keeps something about a resident holds a row of Ana's here, and each
    # of the export's sections has it.
    ana = await user_id(office, "ana")
    for (table, column), section in privacy.EXPORTED.items():
        if column in ("user_id", "actor_id"):
            row = await fetch_one(
                app.db.conn,
                f"SELECT COUNT(*) FROM {table} WHERE {column} = ?",
                (ana,),
            )
            assert row is not None
            assert row[0] > 0, f"the test keeps nothing of Ana's in {table}: seed it"
        assert exported[section], f"{section} is empty in the export"

    assert exported["user"]["id"] == "ana"
    assert exported["user"]["first_name"] == "Ana"
    assert exported["reports"][0]["ref"] == REF
    assert exported["reports"][0]["photos"][0].startswith("photos/")
    assert exported["reports"][0]["contact"]["email"] == "ana-token@example.org"
    assert exported["reports_followed"] == [
        {"ref": "VLA-2026-00002", "since": "2026-05-17T09:00:00+00:00"}
    ]
    assert [b["project"] for b in exported["ballots"]] == ["Lights ana-token"]
    assert exported["consultation_comments"][0]["program"] == "1102"
    assert {(q["where"], q["about"]) for q in exported["plan_and_social_questions"]} == {
        ("plan", "Measure ana-token"), ("social", None)
    }  # fmt: skip
    assert "Alerts: As they arrive" in readable
    as_json = json.dumps(exported, ensure_ascii=False)
    for shown in (readable, as_json):
        assert REF in shown
        assert "Water is gushing from a pipe on the corner" in shown
        assert COMMENT in shown
        for text in ("ana-token proposes a playground", "Lights ana-token", "Measure ana-token",
                     "When, asks ana-token?", "Private question of ana-token",
                     "Author ana-token", "Book number 1"):  # fmt: skip
            assert text in shown, f"{text!r} is not in the export"
        assert "bob" not in shown.lower()  # neither Bob's name, id, words nor rows
    assert "Because of ana-token" in as_json
    assert "Name: Ana" in readable
    assert "Reports you follow (the same problem as yours): VLA-2026-00002" in readable

    # The files are the owner's only, and the messages that send them name them, nothing more.
    db = app.db.path
    assert db is not None
    paths = await export_paths(office)
    assert len(paths) == 2
    for path in paths:
        assert stat.S_IMODE((db.parent / path).stat().st_mode) == 0o600
        assert stat.S_IMODE((db.parent / path).parent.stat().st_mode) == 0o700
    payloads = await fetch_all(
        app.db.conn, "SELECT payload FROM outbox WHERE payload LIKE '%document%'"
    )
    assert all("ana-token" not in str(p[0]) and COMMENT not in str(p[0]) for p in payloads)

    # Sent: the job deletes them; the messages keep the names.
    await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "privacy-exports"))
    assert not [p for p in paths if (db.parent / p).exists()]
    assert list((db.parent / exports.FOLDER).iterdir()) == []
    assert await export_paths(office) == paths


async def test_the_export_job_keeps_only_what_is_still_to_fetch(office: Office) -> None:
    """Unsent or fetched later by URL (Viber): kept until expiry; named by nothing: deleted."""
    app, clock = office.bot.app, office.bot.clock
    db = app.db.path
    assert db is not None
    await office.bot.say("ana", "/start")
    now = clock.now()
    orphan, pending, viber = (
        exports.write_exports(db.parent, {f"{n}.json": b"{}"}, now)[f"{n}.json"]
        for n in ("orphan", "pending", "viber")
    )
    ana = await user_id(office, "ana")
    async with app.db.transaction() as conn:
        for channel, path, status in (("test", pending, "pending"), ("viber", viber, "sent")):
            payload = json.dumps({"text": "x", "document": {"name": "x.json", "path": path}})
            await conn.execute(
                "INSERT INTO outbox (channel, chat_id, user_id, payload, status, next_attempt_at,"
                " created_at) VALUES (?, 'ana', ?, ?, ?, '9999', ?)",
                (channel, ana, payload, status, now.isoformat()),
            )
    job = find_job(app.deps.registry, "privacy-exports")
    await run_job(app.db, app.deps, app.sender, job)
    assert [(db.parent / p).exists() for p in (orphan, pending, viber)] == [False, True, True]
    clock.advance(minutes=31)
    await run_job(app.db, app.deps, app.sender, job)
    assert not (db.parent / exports.FOLDER).exists() or not list(
        (db.parent / exports.FOLDER).iterdir()
    )


RESIDENT, OTHER = 5001, 5002


async def test_telegram_sends_the_files_with_send_document(running: Running) -> None:
    fake = running.fake
    fake.push_command(OTHER, "start", first_name="Zoran")
    fake.push_callback(OTHER, "lang:en")
    fake.push_command(RESIDENT, "start", first_name="Jelena")
    fake.push_callback(RESIDENT, "lang:sr-Latn")
    await running.wait_text(RESIDENT, "Dobro došli")
    fake.push_command(RESIDENT, "mydata")

    def both_sent(_: list[Call]) -> list[JSONDict]:
        sent = [m for m in fake.sent_messages(RESIDENT) if "document" in m]
        return sent if len(sent) == 2 else []

    sent = await fake.wait_for(both_sent)
    assert [Path(m["document"]["file_name"]).suffix for m in sent] == [".txt", ".json"]
    # Multipart uploads that the fake checked against the Bot API's spec, with their captions.
    calls = [c for c in fake.calls_of("sendDocument") if c.ok]
    assert len(calls) == 2
    assert all(c.files and c.params["chat_id"] == RESIDENT for c in calls)
    text, raw = (fake.file(m["document"]["file_id"]).content.decode() for m in sent)
    assert "Ime: Jelena" in text  # Serbian, in the resident's Latin script
    exported = json.loads(raw)
    assert exported["user"] | {"since": "", "last_message": ""} == exported["user"] | {
        "messenger": "telegram", "id": str(RESIDENT), "first_name": "Jelena",
        "language": "sr-Latn", "since": "", "last_message": "",
    }  # fmt: skip
    for content in (text, raw):
        assert "Zoran" not in content
        assert str(OTHER) not in content


@pytest.fixture
async def viber(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> AsyncIterator[ViberRunning]:
    async with viber_app(settings, municipality, geocoder) as app:
        status, body = await app.post(conversation_started(ANA))
        assert status == 200
        app.welcome = json.loads(body)
        await app.say(app.press("lang:en"), "Welcome")
        yield app


async def test_viber_fetches_the_files_by_a_signed_url_that_expires(
    viber: ViberRunning, settings: Settings
) -> None:
    await viber.say(message_text(ANA, "/mydata"), "as JSON")
    files = [m for m in viber.fake.sent_to(ANA) if m.get("type") == "file"]
    assert [Path(f["file_name"]).suffix for f in files] == [".txt", ".json"]
    async with aiohttp.ClientSession() as http:
        for file in files:
            async with http.get(file["media"]) as response:
                assert response.status == 200
                content = await response.read()
            assert file["size"] == len(content)
            assert ANA in content.decode()
            signature = file["media"].split("/")[-4]
            forged = file["media"].replace(signature, "0" * len(signature))
            async with http.get(forged) as response:
                assert response.status == 404
        # A link whose time is over is refused, even rightly signed.
        old = datetime.now(UTC) - exports.KEPT - timedelta(minutes=1)
        stale = exports.write_exports(settings.data_dir, {"old.json": b"{}"}, old)["old.json"]
        async with http.get(viber.channel.media_url(stale)) as response:
            assert response.status == 404


async def test_the_readable_export_tells_the_times_on_the_municipalitys_clock(
    office: Office,
) -> None:
    """22:30 UTC is already the next day in Vlasotince: the file, its title and the times say so,
    written the way the rest of the bot writes them."""
    bot = office.bot
    await office.report_leak("ana")  # 09:00 UTC, 11:00 in Vlasotince
    await seed_the_other_features(office, "ana", 1, 1)  # at 09:00 UTC too
    bot.clock.advance(hours=13, minutes=30)
    await bot.say("ana", Press("rep:1"))
    await bot.say("ana", Press("cm:1"))
    await bot.say("ana", COMMENT)
    replies = await bot.say("ana", "/mydata")
    readable, _exported = read_export(bot, replies)
    names = sorted(r.document.name for r in replies if r.document)
    assert names == ["moja-opstina-2026-05-18.json", "moja-opstina-2026-05-18.txt"]
    assert readable.splitlines()[0].endswith("on 18 May 2026")
    assert "With us since: 17 May 2026\n" in readable
    assert f"{REF} 18 May 2026, 00:30: {COMMENT}" in readable
    assert (
        "Proposals for the 2027 budget 17 May 2026, 11:00: ana-token proposes a playground"
        in readable
    )
    assert "17 May 2026, 11:00 Measure ana-token: When, asks ana-token?" in readable


async def test_the_readable_export_names_what_the_bot_names_not_its_codes(office: Office) -> None:
    bot = office.bot
    await office.report_leak("ana")
    await seed_the_other_features(office, "ana", 1, 1)
    ana = await user_id(office, "ana")
    await run_sql(
        office,
        f"""
            INSERT INTO library_follows (user_id, kind, value, at)
                VALUES ({ana}, 'subject', 'local_history', '{NOW}');
            INSERT INTO library_follows (user_id, kind, value, at)
                VALUES ({ana}, 'language', 'hun', '{NOW}');
            UPDATE library_suggestions SET status = 'not_planned' WHERE user_id = {ana};
        """,
    )
    readable, exported = read_export(bot, await bot.say("ana", "/mydata"))
    assert "Language: English\n" in readable
    assert "Author you follow: Author ana-token\n" in readable
    assert "Subject you follow: Local history\n" in readable
    assert "Language of books you follow: Hungarian\n" in readable
    assert "Your suggestion: Book number 1 (Writer 1), not planned\n" in readable
    # The program by its name in the reader's language, as the budget's screens name it.
    assert (
        "ana-token proposes a playground (Communal activities, Estimated cost: 5,000 dinars)"
        in (readable)
    )
    await bot.say("ana", "/language")
    await bot.say("ana", Press("lang:sr-Latn"))
    serbian, _exported = read_export(bot, await bot.say("ana", "/mydata"))
    assert "ana-token proposes a playground (Komunalne delatnosti, " in serbian
    # The JSON keeps the codes, for other programs.
    assert exported["user"]["language"] == "en"
    assert exported["consultation_comments"][0]["cost"] == 500000


async def test_the_readable_export_names_consultations_in_the_readers_language(
    office: Office,
) -> None:
    """A budget consultation's title is stored in the staff language (Serbian Cyrillic): the
    export names it as the bot names it for that year, in the reader's language. Another
    consultation's title is written once, by staff: it comes in the reader's script. The
    resident's own words stay as they wrote them."""
    bot = office.bot
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    ana = await user_id(office, "ana")
    await run_sql(
        office,
        f"""
            INSERT INTO consultations (id, title, description, starts_at, ends_at, place,
                budget_year, created_at) VALUES (201, 'Предлози за буџет за 2027. годину', '',
                '{NOW}', '{NOW}', '', 2027, '{NOW}');
            INSERT INTO consultations (id, title, description, starts_at, ends_at, place,
                created_at) VALUES (202, 'Јавна расправа о тргу', '', '{NOW}', '{NOW}', 'Сала',
                '{NOW}');
            INSERT INTO consultation_participants (consultation_id, user_id, remind, attend)
                VALUES (202, {ana}, 1, 0);
            INSERT INTO consultation_comments (consultation_id, user_id, text, at, program)
                VALUES (201, {ana}, 'Клупе у парку', '{NOW}', '1102');
            INSERT INTO consultation_comments (consultation_id, user_id, text, at)
                VALUES (202, {ana}, 'Више дрвећа', '{NOW}');
        """,
    )
    english, exported = read_export(bot, await bot.say("ana", "/mydata"))
    assert "Proposals for the 2027 budget 17 May 2026, 11:00: Клупе у парку (Communal" in english
    assert "Javna rasprava o trgu 17 May 2026, 11:00: Више дрвећа" in english
    assert "Consultations you joined\nJavna rasprava o trgu\n" in english
    # The JSON keeps what is stored.
    assert (
        exported["consultation_comments"][0]["consultation"] == "Предлози за буџет за 2027. годину"
    )
    for language, budget, other in (
        ("sr-Latn", "Predlozi za budžet za 2027. godinu", "Javna rasprava o trgu"),
        ("sr-Cyrl", "Предлози за буџет за 2027. годину", "Јавна расправа о тргу"),
    ):
        await bot.say("ana", "/language")
        await bot.say("ana", Press(f"lang:{language}"))
        readable, _exported = read_export(bot, await bot.say("ana", "/mydata"))
        assert f"{budget} " in readable, language
        assert f"\n{other} " in readable, language
        assert ("Јавна расправа" in readable) == (language == "sr-Cyrl"), language


async def documents_given_up(app: App, data_dir: Path, channel: str, chat_id: str) -> list[str]:
    """Queue an old row's document without a path, a file outside the exports and a path that
    cannot be read; deliver; the rows' statuses."""
    (data_dir / "notes.txt").write_text("not an export")
    folder = f"{exports.FOLDER}/{int(datetime.now(UTC).timestamp()) + 3600}-abc"
    (data_dir / folder / "a-folder").mkdir(parents=True)
    documents = [
        {"name": "old.txt", "text": "the export as the old rows kept it"},
        {"name": "notes.txt", "path": "notes.txt"},
        {"name": "a-folder.txt", "path": f"{folder}/a-folder"},
    ]
    now = datetime.now(UTC).isoformat()
    async with app.db.transaction() as conn:
        for document in documents:
            await conn.execute(
                "INSERT INTO outbox (channel, chat_id, payload, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (channel, chat_id, json.dumps({"text": "x", "document": document}), now, now),
            )
    await app.sender.drain()
    rows = await fetch_all(
        app.db.conn, "SELECT status FROM outbox WHERE instr(payload, 'document') ORDER BY id"
    )
    return [str(r[0]) for r in rows]


async def test_telegram_gives_up_a_document_that_is_no_export_or_cannot_be_read(
    running: Running, settings: Settings
) -> None:
    """Each is refused for good, not retried, and nothing is uploaded."""
    statuses = await documents_given_up(running.app, settings.data_dir, "telegram", str(RESIDENT))
    assert statuses == ["failed", "failed", "failed"]
    assert running.fake.calls_of("sendDocument") == []


async def test_viber_gives_up_a_document_that_is_no_export_or_cannot_be_read(
    viber: ViberRunning, settings: Settings
) -> None:
    statuses = await documents_given_up(viber.app, settings.data_dir, "viber", ANA)
    assert statuses == ["failed", "failed", "failed"]
    assert [m for m in viber.fake.sent_to(ANA) if m.get("type") == "file"] == []

"""Social protection: the rights and services from the municipality file, in every language it
offers; a file missing a text in one of them is refused, naming the entry."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.budget import imports
from handlers.budget.importer import DocumentKind, read_budget
from handlers.budget.money import millions
from handlers.i18n import translator
from handlers.municipality import (
    Municipality,
    MunicipalityFileError,
    StaffMember,
    load_municipality,
)
from tests.conftest import VLASOTINCE, Bot, Office, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder


def data_of(bot: Bot, user: str, label: str) -> str:
    last = bot.channel.to(user)[-1]
    return next(b.data for row in last.buttons for b in row if label in b.label)


async def test_a_resident_reads_who_is_entitled_what_to_bring_and_where_to_apply(bot: Bot) -> None:
    await bot.say("ana", "/start")
    await bot.play("ana", [(Press("lang:en"), ["[🤝 Social protection]"])])
    await bot.play("ana", [(Press("menu:social"), [
        "Rights and services of social protection.", "The Centre for Social Work decides",
        "(Example content, to be checked by the municipality.)",
        "[Financial social assistance]", "[Child allowance]", "[Home care for the elderly]",
        "[Free meals (soup kitchen)]",
    ])])  # fmt: skip
    await bot.play("ana", [(Press(data_of(bot, "ana", "Home care")), [
        "🤝 Home care for the elderly\nHome carers help with hygiene",
        "👥 Who is entitled: People over 65",
        "📄 Documents: the request, identity card, medical records, proof of income",
        "📍 Where to apply: Centre for Social Work Vlasotince, Trg oslobođenja 16, Vlasotince",
        "📞 016/000-000", "🕒 weekdays 7:00–15:00",
        "🗺 https://www.openstreetmap.org/?mlat=42.9660&mlon=22.1290",
        "[↩️ Social protection]",
    ])])  # fmt: skip
    # The child allowance is applied for at the municipality, not at the Centre.
    await bot.say("ana", Press(data_of(bot, "ana", "Social protection")))
    await bot.play("ana", [(Press(data_of(bot, "ana", "Child allowance")), [
        "📍 Where to apply: Municipal Administration of Vlasotince — Department of Social Affairs",
    ])])  # fmt: skip
    await bot.play("ana", [(Press("socr:made_up"), ["Please choose one of the options below."])])


async def test_serbian_readers_get_the_guide_in_their_script(bot: Bot) -> None:
    await bot.say("mila", "/start")
    await bot.say("mila", Press("lang:sr-Latn"))
    await bot.say("mila", "/social")
    await bot.play("mila", [(Press(data_of(bot, "mila", "Pomoć u kući")), [
        "🤝 Pomoć u kući za starije", "Centar za socijalni rad Vlasotince, Trg oslobođenja 16",
    ])])  # fmt: skip
    await bot.say("vuk", "/start")
    await bot.say("vuk", Press("lang:sr-Cyrl"))
    await bot.say("vuk", "/social")
    await bot.play("vuk", [(Press(data_of(bot, "vuk", "Помоћ у кући")), [
        "🤝 Помоћ у кући за старије", "Центар за социјални рад Власотинце, Трг ослобођења 16",
    ])])  # fmt: skip


async def test_without_a_guide_the_resident_is_told_so(
    bot: Bot, municipality: Municipality
) -> None:
    bot.app.deps = replace(bot.app.deps, municipality=replace(municipality, social=None))
    bot.app.dispatcher._deps = bot.app.deps
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    await bot.play("ana", [("/social", ["not published here yet"])])


def with_social(tmp_path: Path, old: str, new: str) -> Path:
    text = VLASOTINCE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "m.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'title = { sr = "Новчана социјална помоћ", en = "Financial social assistance" }',
            'title = { sr = "Новчана социјална помоћ" }',
            "social right #1: 'title' has no text in 'en'",
        ),
        ('key = "home_care"\noffice = "csr"', 'key = "home_care"\noffice = "dom"',
         "social right #5 (home_care): unknown office 'dom'"),
        ('key = "one_off_aid"', 'key = "financial_aid"',
         "social right #2: 'key' must be unique"),
    ],
)  # fmt: skip
def test_a_guide_missing_a_language_or_an_office_stops_the_bot(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    with pytest.raises(MunicipalityFileError) as e:
        load_municipality(with_social(tmp_path, old, new))
    assert problem in str(e.value)


async def test_what_could_i_be_entitled_to_lists_what_may_apply_and_keeps_no_answer(
    bot: Bot,
) -> None:
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    await bot.say("ana", "/social")
    await bot.play("ana", [
        (Press(data_of(bot, "ana", "What could I be entitled to?")),
         ["The answers are not kept", "1/5 How many people live in your household?",
          "[I live alone]", "[5 or more]"]),
        (Press("socq:1"), ["2/5 Is anyone in the household 65 or older?", "[Yes]", "[No]"]),
        (Press("socq:high"), ["Please answer with one of the buttons, or /cancel.",
                              "2/5 Is anyone in the household 65 or older?"]),  # not this one's
        ("some text", ["Please answer with one of the buttons"]),
        (Press("socq:yes"), ["3/5 The household's monthly income per member"]),
        (Press("socq:low"), ["4/5 Does anyone in the household have a disability"]),
        (Press("socq:no"), ["5/5 Are there children in the household?"]),
        (Press("socq:no"), [
            "These may apply to your household:\n• Financial social assistance\n"
            "• One-off financial assistance\n• Home care for the elderly\n"
            "• Free meals (soup kitchen)",
            "The Centre for Social Work decides whether you are entitled",
            "Your answers were not kept.", "[Home care for the elderly]",
        ]),
    ])  # fmt: skip
    # The answers wait in the conversation while the list is shown (to ask to be contacted);
    # leaving it drops them, and nothing of them was stored anywhere else.
    assert (await conversation_of(bot, "ana"))[0][0] == "social:results"
    await bot.say("ana", Press("menu:main"))
    assert await conversation_of(bot, "ana") == [("menu:main", "{}")]
    async with bot.app.db.transaction() as conn:
        assert list(await conn.execute_fetchall("SELECT * FROM social_questions")) == []


async def conversation_of(bot: Bot, user: str) -> list[tuple[str, str]]:
    async with bot.app.db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT c.state, c.draft FROM conversations c JOIN users u ON u.id = c.user_id"
            " WHERE u.external_id = ?",
            (user,),
        )
    return [(str(r[0]), str(r[1])) for r in rows]


async def test_a_family_with_a_baby_and_a_modest_income_and_cancelling(bot: Bot) -> None:
    await bot.say("bob", "/start")
    await bot.say("bob", Press("lang:en"))
    await bot.say("bob", "/social")
    await bot.say("bob", Press(data_of(bot, "bob", "What could I be entitled to?")))
    for value in ("3", "no", "mid", "no"):
        await bot.say("bob", Press(f"socq:{value}"))
    shown = await bot.say("bob", Press("socq:baby"))
    assert [line for line in shown[0].text.split("\n") if line.startswith("•")] == [
        "• One-off financial assistance", "• Child allowance", "• Parental allowance",
    ]  # fmt: skip
    await bot.say("bob", Press(data_of(bot, "bob", "Social protection")))
    await bot.say("bob", Press(data_of(bot, "bob", "What could I be entitled to?")))
    await bot.play("bob", [("/cancel", ["Cancelled."])])
    await bot.play("bob", [(Press("socq:no"), ["Please choose one of the options below."])])


@pytest.fixture
async def centre(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Office]:
    """The bot with the Centre's staff member "centre", an admin, the staff groups and e-mail."""
    assert municipality.social is not None
    guide = replace(municipality.social, centre_staff=(("test", "centre"),))
    staff = (StaffMember("test", "boss", "Шеф", "admin", ()),)
    m = replace(municipality, social=guide, staff=staff)
    residents, groups, mail = (CollectingChannel("test"), CollectingChannel("telegram"),
                               CollectingChannel("email"))  # fmt: skip
    channels = {"test": residents, "telegram": groups, "email": mail}
    async with build_app(settings, m, channels, clock=clock, geocoder=geocoder) as app:
        office = Office(Bot(app, residents, clock), groups, mail)
        for user in ("centre", "boss", "ana"):
            await office.bot.say(user, "/start")
            await office.bot.say(user, Press("lang:en"))
        yield office


async def test_ask_the_centre_reaches_its_staff_only_in_private_and_never_a_log(
    centre: Office, caplog: pytest.LogCaptureFixture
) -> None:
    bot = centre.bot
    caplog.set_level("DEBUG", logger="handlers")
    caplog.set_level("DEBUG", logger="bot")
    question = "My mother (82) lives alone in Svođe; can she get home care?"
    await bot.say("ana", "/social")
    await bot.play("ana", [
        (Press(data_of(bot, "ana", "Ask the Centre")), ["Only the Centre's staff will read it"]),
        (question, ["Your question was sent to the Centre's staff only."]),
    ])  # fmt: skip
    to_centre = bot.channel.to("centre")[-1].text
    assert "✉️ Private question #1 to the Centre:" in to_centre
    assert question in to_centre
    assert all(question not in r.text for r in bot.channel.to("boss"))  # not even the admin
    assert all(question not in r.text for _chat, r in centre.staff_chats.sent)
    assert all(question not in r.text for _chat, r in centre.mail.sent)
    await bot.play("boss", [("/centreanswer 1 Yes.", ["This is for the Centre's staff only."])])
    await bot.play("centre", [
        ("/centreanswer 7 Yes.", ["Usage: /centreanswer ID TEXT"]),
        ("/centreanswer 1 Yes; please call us to arrange a visit.", ["The answer was sent."]),
    ])  # fmt: skip
    assert "please call us to arrange a visit" in bot.channel.to("ana")[-1].text
    async with bot.app.db.transaction() as conn:
        reports = await conn.execute_fetchall("SELECT description FROM reports")
    assert list(reports) == []  # not a report: no export, no open data has it
    assert question not in caplog.text


async def test_asking_to_be_contacted_sends_the_answers_only_with_consent_to_the_centre_only(
    centre: Office, caplog: pytest.LogCaptureFixture
) -> None:
    bot = centre.bot
    caplog.set_level("DEBUG", logger="handlers")
    caplog.set_level("DEBUG", logger="bot")

    async def questionnaire() -> None:
        await bot.say("ana", "/social")
        await bot.say("ana", Press(data_of(bot, "ana", "What could I be entitled to?")))
        for value in ("1", "yes", "low", "yes"):
            await bot.say("ana", Press(f"socq:{value}"))

    await questionnaire()
    await bot.play("ana", [
        (Press("socq:no"), ["These may apply to your household:",
                            "only then are your answers sent to it and kept.",
                            "[📞 Ask the Centre to contact me]"]),
        (Press("socct:ask"), [
            "To contact you, the Centre's staff (only they) receive these answers",
            "• How many people live in your household? I live alone\n"
            "• Is anyone in the household 65 or older? Yes\n"
            "• The household's monthly income per member (approximately)? up to 15,000 dinars\n"
            "• Does anyone in the household have a disability or need another person's care? Yes"
            "\n• Are there children in the household? No",
            "[✅ Yes, the Centre may contact me]", "[✖️ No, drop my answers]"]),
        (Press("socct:no"), ["Your answers were dropped; nothing was sent."]),
        (Press("socct:yes"), ["Please choose one of the options below."]),  # nothing left to send
    ])  # fmt: skip
    assert await conversation_of(bot, "ana") == [("menu:main", "{}")]
    async with bot.app.db.transaction() as conn:
        assert list(await conn.execute_fetchall("SELECT * FROM social_questions")) == []
    assert "I live alone" not in "".join(r.text for r in bot.channel.to("centre"))

    await questionnaire()
    await bot.say("ana", Press("socq:no"))
    await bot.say("ana", Press("socct:ask"))
    await bot.play("ana", [(Press("socct:yes"), ["Sent to the Centre's staff only."])])
    to_centre = bot.channel.to("centre")[-1].text
    assert to_centre.startswith("📞 Request #1: Ana asks the Centre to contact them.")
    assert "• Is anyone in the household 65 or older? Yes" in to_centre
    assert to_centre.endswith("Answer with /centreanswer 1 TEXT")
    assert all("I live alone" not in r.text for r in bot.channel.to("boss"))  # not the admin
    assert all("I live alone" not in r.text for _chat, r in centre.staff_chats.sent)
    assert all("I live alone" not in r.text for _chat, r in centre.mail.sent)
    assert "I live alone" not in caplog.text
    async with bot.app.db.transaction() as conn:
        (stored,) = await conn.execute_fetchall("SELECT text FROM social_questions")
    assert "I live alone" in stored[0]
    await bot.play("centre", [("/centreanswer 1 We will call you tomorrow.",
                               ["The answer was sent."])])  # fmt: skip
    assert "We will call you tomorrow." in bot.channel.to("ana")[-1].text
    assert await conversation_of(bot, "ana") == [("menu:main", "{}")]


async def test_feedback_is_published_only_as_counts_of_5_or_more(centre: Office) -> None:
    bot = centre.bot
    home_care = "socr:home_care"
    (issued,) = await bot.say("centre", "/centrecodes home_care 7")
    assert issued.text.startswith(
        "7 feedback codes for Home care for the elderly; give one to each person who applied"
    )
    codes = issued.text.split("\n")[1:]
    assert len(set(codes)) == 7
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", c) for c in codes)

    async def feedback(user: str, code: str, *presses: str) -> str:
        await bot.say(user, "/start")
        await bot.say(user, Press("lang:en"))
        await bot.say(user, Press(home_care))
        await bot.say(user, Press(data_of(bot, user, "I used this")))
        replies = await bot.say(user, code)
        for press in presses:
            replies = await bot.say(user, Press(press))
        return replies[-1].text

    for user, code in zip(("r1", "r2", "r3", "r4"), codes, strict=False):
        assert await feedback(user, code, "socfb:home_care:yes", "socrt:home_care:good") == (
            "Thank you for your feedback."
        )
    shown = (await bot.say("ana", Press(home_care)))[0].text
    assert "Residents' feedback" not in shown  # 4 is too few
    await feedback("r5", codes[4].lower().replace("-", " "), "socfb:home_care:yes",
                   "socrt:home_care:good")  # fmt: skip
    shown = (await bot.say("ana", Press(home_care)))[0].text
    assert "Residents' feedback: 5 received it, 0 did not; good 5, fair 0, bad 0." in shown
    await feedback("r6", codes[5], "socfb:home_care:no")
    shown = (await bot.say("ana", Press(home_care)))[0].text
    # One "did not" would be told by 5 and 1: that group is not shown at all.
    assert "Residents' feedback: good 5, fair 0, bad 0." in shown
    async with bot.app.db.transaction() as conn:
        columns = [r[1] for r in await conn.execute_fetchall("PRAGMA table_info(social_feedback)")]
        kept = await conn.execute_fetchall("SELECT * FROM social_feedback_codes")
    assert "user_id" not in columns  # anonymous
    async with bot.app.db.transaction() as conn:
        given = await conn.execute_fetchall("SELECT * FROM social_feedback_given")
    assert list(given) == []  # nor a list of who gave feedback
    assert all(code not in str(row) for row in kept for code in codes)  # only their hashes


async def test_feedback_needs_an_unused_code_of_that_right(centre: Office) -> None:
    bot = centre.bot
    (issued,) = await bot.say("centre", "/centrecodes home_care 1")
    (code,) = issued.text.split("\n")[1:]
    (other,) = (await bot.say("centre", "/centrecodes free_meals 1"))[0].text.split("\n")[1:]
    await bot.play("boss", [("/centrecodes home_care 5", ["This is for the Centre's staff only."])])
    await bot.play("centre", [
        ("/centrecodes home_care 51", ["Usage: /centrecodes RIGHT N"]),
        ("/centrecodes nothing 3", ["Usage: /centrecodes RIGHT N"]),
    ])  # fmt: skip
    await bot.play("ana", [
        (Press("socr:home_care"), ["Home care for the elderly"]),
        (Press("socfb:home_care:yes"), ["Please choose one of the options below."]),  # no code
        (Press("socrt:home_care:good"), ["Please choose one of the options below."]),
        (Press("socr:home_care"), ["Home care for the elderly"]),
        (Press("socfb:home_care:ask"), ["write the code the Centre gave you"]),
        ("ABCD-EFGH", ["That is not an unused code for Home care for the elderly."]),
        (other, ["That is not an unused code for Home care for the elderly."]),  # another right's
        (code, ["Did you receive Home care for the elderly? Your answer is anonymous."]),
        (Press("socfb:home_care:no"), ["Thank you for your feedback."]),
        (Press("socr:home_care"), ["Home care for the elderly"]),
        (Press("socfb:home_care:ask"), ["write the code the Centre gave you"]),
        (code, ["That is not an unused code"]),  # used up
    ])  # fmt: skip


async def test_the_figures_are_shown_with_their_dates_and_the_budget_of_program_0901(
    bot: Bot,
) -> None:
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    figures = "📊 Beneficiaries:\n2026 Q1: 312 (published 20 Apr 2026)\n2026 Q2: 298 (published"
    await bot.play("ana", [(Press("socr:financial_aid"), [figures])])
    shown = (await bot.say("ana", "/social"))[0].text
    assert "program 0901" not in shown  # no budget imported yet
    example = VLASOTINCE.parent / "budget" / "vlasotince-2026-adopted-EXAMPLE.csv"
    lines = read_budget(example.name, example.read_bytes(), DocumentKind.ADOPTED)
    document = imports.Document(2026, DocumentKind.ADOPTED, date(2025, 12, 20), example.name)
    async with bot.app.db.transaction() as conn:
        await imports.store(conn, document, lines, imported_by=None, now=bot.clock.now())
    planned = sum(x.planned for x in lines if x.program == "0901")
    shown = (await bot.say("ana", "/social"))[0].text
    expected = millions(translator("en"), planned)
    assert (
        f"💰 Social and child protection in the budget for 2026 (program 0901): planned {expected},"
        " executed 0.0 million dinars, as of 20 Dec 2025." in shown
    )


async def test_answers_of_a_questionnaire_left_half_done_are_dropped_after_30_minutes(
    bot: Bot,
) -> None:
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    await bot.say("ana", "/social")
    await bot.say("ana", Press(data_of(bot, "ana", "What could I be entitled to?")))
    await bot.say("ana", Press("socq:1"))
    await bot.say("ana", Press("socq:yes"))  # elderly, living alone: then nothing more

    async def conversation() -> list[tuple[str, str]]:
        async with bot.app.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT c.state, c.draft FROM conversations c JOIN users u ON u.id = c.user_id"
                " WHERE u.external_id = 'ana'"
            )
        return [(str(r[0]), str(r[1])) for r in rows]

    job = find_job(bot.app.deps.registry, "social-drop-abandoned-answers")
    bot.clock.advance(minutes=29)
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, job)
    assert "elderly" in (await conversation())[0][1]
    bot.clock.advance(minutes=2)
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, job)
    assert await conversation() == [("menu:main", "{}")]

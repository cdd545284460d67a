"""Social protection: the rights and services from the municipality file, in every language it
offers; a file missing a text in one of them is refused, naming the entry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from handlers.municipality import Municipality, MunicipalityFileError, load_municipality
from tests.conftest import VLASOTINCE, Bot, Press


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
    # Nothing of the answers is left in the conversation.
    async with bot.app.db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT c.state, c.draft FROM conversations c JOIN users u ON u.id = c.user_id"
            " WHERE u.external_id = 'ana'"
        )
    assert [tuple(r) for r in rows] == [("menu:main", "{}")]


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

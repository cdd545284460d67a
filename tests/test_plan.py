"""The action plan: progress computed from activities, residents reading and following it, staff
updating it in chat, and the job that marks overdue measures late (once, across a restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.i18n import translator
from handlers.municipality import (
    Municipality,
    MunicipalityFileError,
    StaffMember,
    load_municipality,
)
from handlers.plan import views
from handlers.plan.progress import Plan, bar
from storage import plan as store
from storage.plan import Measure, Milestone
from tests.conftest import VLASOTINCE, Bot, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder


def measure(
    id_: int,
    parent: int | None = None,
    progress: int = 0,
    weight: float | None = None,
    status: str = "in_progress",
) -> Measure:
    return Measure(id_, str(id_), parent, f"M{id_}", "", "", None, None, None, status, progress,
                   weight)  # fmt: skip


# A milestone's number stands by its text, its date apart: "1. 15. 4. 2026." read as one date.
MILESTONE_LINES = {
    "sr-Cyrl": ["✅ 1. Извештај (рок: 15. 4. 2026.)", "⬜ 2. Без рока"],
    "sr-Latn": ["✅ 1. Izveštaj (rok: 15. 4. 2026.)", "⬜ 2. Bez roka"],
    "bs": ["✅ 1. Izveštaj (rok: 15. apr 2026.)", "⬜ 2. Bez roka"],
    "en": ["✅ 1. Izveštaj (due 15 Apr 2026)", "⬜ 2. Bez roka"],
    "hu": ["✅ 1. Izveštaj (határidő: 2026. ápr. 15.)", "⬜ 2. Bez roka"],
}


@pytest.mark.parametrize("language", sorted(MILESTONE_LINES))
def test_a_milestones_number_is_not_read_as_part_of_its_date(language: str) -> None:
    m = measure(1)
    milestones = [
        Milestone(1, 1, date(2026, 4, 15), "Извештај", date(2026, 4, 10)),
        Milestone(1, 2, None, "Без рока", None),
    ]
    text = views.details(translator(language), Plan([m]), m, milestones)
    assert text.splitlines()[-2:] == MILESTONE_LINES[language]


def test_a_parent_is_the_weighted_mean_of_its_activities() -> None:
    plan = Plan([measure(1), measure(2, 1, 100, 2), measure(3, 1, 60, 1), measure(4, 1, 25, 1)])
    assert plan.progress(1) == pytest.approx(71.25)
    assert bar(plan.progress(1)) == "▓▓▓▓▓▓▓░░░ 71%"


def test_without_weights_a_parent_is_the_plain_mean() -> None:
    plan = Plan([measure(1, progress=90), measure(2, 1, 100), measure(3, 1, 50)])
    assert plan.progress(1) == pytest.approx(75)  # the parent's own 90 does not count


def test_progress_is_computed_down_any_depth_and_dropped_activities_do_not_count() -> None:
    plan = Plan([
        measure(1), measure(2, 1, weight=3), measure(3, 1, 20, weight=1),
        measure(4, 2, 100), measure(5, 2, 0), measure(6, 2, 0, status="dropped"),
    ])  # fmt: skip
    assert plan.progress(2) == pytest.approx(50)
    assert plan.progress(1) == pytest.approx((50 * 3 + 20) / 4)
    assert [a.id for a in plan.ancestors(4)] == [2, 1]


def test_a_parent_whose_activities_are_all_dropped_shows_its_own_progress() -> None:
    plan = Plan([measure(1, progress=40), measure(2, 1, 100, status="dropped")])
    assert plan.progress(1) == pytest.approx(40)


def test_half_a_per_cent_rounds_up() -> None:
    assert bar(62.5).endswith(" 63%")
    assert bar(0) == "░░░░░░░░░░ 0%"
    assert bar(100) == "▓▓▓▓▓▓▓▓▓▓ 100%"


# The municipality file.


def one_plan(m: Municipality) -> Municipality:
    """The municipality as if it published only its open-government plan: the shape of a file
    with one plan, where "Action plan" opens the plan at once."""
    plans = m.plan
    ogp = tuple(x for x in plans.measures if x.plan == plans.default)
    return replace(m, plan=replace(plans, plans=plans.plans[:1], measures=ogp))


def write_plan(tmp_path: Path, measures: str) -> Path:
    path = tmp_path / "m.toml"
    text = VLASOTINCE.read_text(encoding="utf-8").split("\n[plan]")[0]
    path.write_text(text + '\n[plan]\ntitle = "План"\n' + measures, encoding="utf-8")
    return path


def test_the_example_plans_of_vlasotince_load_and_are_marked_as_examples() -> None:
    m = load_municipality(VLASOTINCE)
    assert [p.id for p in m.plan.plans] == ["ogp", "mladi"]
    assert m.plan.default == "ogp"
    assert all(p.example for p in m.plan.plans)
    assert m.plan.plans[1].title_in(translator("en")) == (
        "Local youth action plan of the Municipality of Vlasotince 2026–2028"
    )
    assert m.plan.plans[1].title_in(translator("sr-Latn")).startswith("Lokalni akcioni plan za")
    assert [x.key for x in m.plan.measures][:4] == ["1", "1.1", "1.2", "1.3"]
    assert {x.plan for x in m.plan.measures if x.key == "1.1"} == {"ogp", "mladi"}


def test_a_file_naming_no_plans_has_one_and_a_measure_must_name_a_known_plan(
    tmp_path: Path,
) -> None:
    m = load_municipality(write_plan(tmp_path, '[[plan.measures]]\nkey = "1"\ntitle = "А"\n'))
    assert [(p.id, p.title_in(translator("en"))) for p in m.plan.plans] == [("lap", "Plan")]
    assert not m.plan.several
    assert m.plan.measures[0].plan == "lap"
    wrong = '[[plan.measures]]\nplan = "youth"\nkey = "1"\ntitle = "А"\n'
    with pytest.raises(MunicipalityFileError, match="plan measure #1: 'plan' names no plan"):
        load_municipality(write_plan(tmp_path, wrong))


@pytest.mark.parametrize(
    ("measures", "problem"),
    [
        (
            '[[plan.measures]]\nkey = "1"\ntitle = "А"\n'
            '[[plan.measures]]\nkey = "1.1"\nparent = "1"\ntitle = "Б"\nweight = 2\n'
            '[[plan.measures]]\nkey = "1.2"\nparent = "1"\ntitle = "В"\n',
            "plan measure #3 (weight): the activities of «1» need a weight each, or none of them",
        ),
        (
            '[[plan.measures]]\nkey = "1.1"\nparent = "1"\ntitle = "Б"\n',
            "plan measure #1 (parent): the parent «1» is not a measure above this one",
        ),
        (
            '[[plan.measures]]\nkey = "1"\ntitle = "А"\nprogress = 120\n',
            "plan measure #1 (progress): the progress must be between 0 and 100",
        ),
        (
            '[[plan.measures]]\nkey = "1"\ntitle = "А"\nstatus = "finished"\n',
            "plan measure #1 (status): unknown status «finished»",
        ),
        (
            '[[plan.measures]]\nkey = "1"\ntitle = "А"\nstarts_on = 2026-05-01\n'
            "ends_on = 2026-04-01\n",
            "plan measure #1 (end): the measure ends before it starts",
        ),
        (
            '[[plan.measures]]\nkey = "1"\ntitle = "А"\nends_on = "31.12.2026"\n',
            "plan measure #1: 'ends_on' has the wrong type",
        ),
    ],
)
def test_a_wrong_plan_in_the_file_stops_the_bot_naming_the_measure(
    tmp_path: Path, measures: str, problem: str
) -> None:
    with pytest.raises(MunicipalityFileError) as e:
        load_municipality(write_plan(tmp_path, measures))
    assert problem in str(e.value)


# In chat.

KATA = StaffMember("test", "kata", "Ката", "operator", ("communal",))


@pytest.fixture
async def plan_bot(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    """The bot with an admin, an operator of the communal service (the plan's measures 1.x) and
    one of the water service; everyone has chosen English."""
    staff = (
        StaffMember("test", "boss", "Шеф", "admin", ()),
        KATA,
        StaffMember("test", "vesna", "Весна", "operator", ("water",)),
    )
    m = replace(one_plan(municipality), staff=staff)
    channel = CollectingChannel()
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        for user in ("boss", "kata", "vesna", "ana", "bob"):
            await bot.say(user, "/start")
            await bot.say(user, Press("lang:en"))
        yield bot


def data_of(bot: Bot, user: str, label_part: str) -> str:
    """The data of the button whose label contains ``label_part`` in the user's last message."""
    last = bot.channel.to(user)[-1]
    return next(b.data for row in last.buttons for b in row if label_part in b.label)


async def test_residents_read_the_plan_down_to_an_activity_and_its_milestones(
    plan_bot: Bot,
) -> None:
    bot = plan_bot
    menu = bot.channel.to("ana")[-2]  # the topics offered once come after
    assert "🎯 Action plan" in [b.label for row in menu.buttons for b in row]
    await bot.play(
        "ana",
        [
            (Press("menu:plan"), [
                "📋 Local action plan for open government of the Municipality of Vlasotince"
                " 2026–2027",
                "(An example plan, to be checked by the municipality.)",
                "1. Prijava komunalnih problema sa povratnom informacijom građaninu\n"
                "▓▓▓▓▓▓▓░░░ 71% · 🔵 in progress",
                "[1. Prijava komunalnih problema sa povratno… (71%)]",
            ]),
        ],
    )  # fmt: skip
    await bot.play(
        "ana",
        [
            (Press(data_of(bot, "ana", "1. Prijava")), [
                "(computed from its activities below)",
                "Responsible: Odeljenje za komunalne poslove i inspekciju",
                "Period: 1 Jan 2026 – 31 Dec 2026",
                "[1.1. Pokretanje čet-bota za prijavu problema… (100%)]",
                "[1.3. Tromesečni izveštaj o rešenim prijavama… (25%)]",
                "[🔔 Follow]", "[🕘 History]",
            ]),
        ],
    )  # fmt: skip
    await bot.play(
        "ana",
        [
            (Press(data_of(bot, "ana", "1.3.")), [
                "▓▓▓░░░░░░░ 25% · 🔵 in progress",
                "Milestones:\n✅ 1. Izveštaj za prvi kvartal (due 15 Apr 2026)\n"
                "⬜ 2. Izveštaj za drugi kvartal (due 15 Jul 2026)",
                "[⬆️ 1. Prijava komunalnih problema",
            ]),
        ],
    )  # fmt: skip
    await bot.play(
        "ana",
        [
            (Press(data_of(bot, "ana", "History")), ["History of 1.3.", "No changes yet."]),
            (Press("pms:999999"), ["Please choose one of the options below."]),  # made up
        ],
    )  # fmt: skip


async def test_the_plan_comes_with_a_picture_of_every_commitments_progress(
    plan_bot: Bot, settings: Settings
) -> None:
    bot = plan_bot
    (shown,) = await bot.say("ana", Press("menu:plan"))
    assert "71% · 🔵 in progress" in shown.text  # the figures stay in the text
    (picture,) = shown.photos
    assert picture.startswith("photos/charts/")
    assert (settings.data_dir / picture).read_bytes().startswith(b"\x89PNG")
    async with bot.app.db.transaction() as conn:
        plan = Plan(await store.all_measures(conn))
    chart = views.plan_chart(translator("en"), plan, "План")
    assert chart.title == "Plan"  # in the reader's script
    assert chart.values == (71.0, 13.0, 50.0, 0.0)
    assert chart.value_labels == ("71%", "13%", "50%", "0%")
    assert chart.labels[0] == "1. Prijava komunalnih problema sa povratnom informacijom gr…"
    assert (chart.maximum, chart.unit) == (100, "%")


async def test_staff_update_a_measure_and_its_followers_are_told(plan_bot: Bot) -> None:
    bot = plan_bot
    await bot.say("ana", Press("menu:plan"))
    await bot.say("ana", Press(data_of(bot, "ana", "1. Prijava")))
    followed = ["You follow 1. Prijava komunalnih problema", "you will be told of every change"]
    await bot.play("ana", [(Press(data_of(bot, "ana", "Follow")), followed)])
    await bot.say("bob", Press("menu:plan"))
    await bot.say("bob", Press(data_of(bot, "bob", "1. Prijava")))
    await bot.say("bob", Press(data_of(bot, "bob", "1.3.")))
    await bot.say("bob", Press(data_of(bot, "bob", "Follow")))

    saved = await bot.say("kata", "/measure 1.3 progress 60% Q2 report drafted")
    assert "Saved: 1.3." in saved[0].text
    assert "Progress: 25% → 60%" in saved[0].text
    for follower in ("ana", "bob"):  # the commitment's follower and the activity's
        notice = bot.channel.to(follower)[-1]
        assert "1.3. Tromesečni izveštaj" in notice.text
        assert "Progress: 25% → 60%\nQ2 report drafted" in notice.text
    # The commitment's progress is computed again: (100*2 + 60 + 60) / 4.
    await bot.play("ana", [(Press("menu:plan"), ["▓▓▓▓▓▓▓▓░░ 80%"])])

    await bot.play("kata", [
        ("/measure 1.3 milestone 2", ["Milestone reached: Izveštaj za drugi kvartal"]),
        ("/measure 1.3 milestone 2", ["That milestone was already reached."]),
        ("/measure 1.3 milestone 7", ["1.3 has no milestone 7."]),
        ("/measure 1.3 milestone add 15.01.2027 Godišnji izveštaj", [
            "Milestone 4 of 1.3 added: 15 Jan 2027 Godišnji izveštaj"]),
        ("/measure 1.3 status late", ["Please give the reason"]),
        ("/measure 1.3 status kasni Nema podataka od JKP", ["Status: in progress → late"]),
        ("/measure 1.3 status finished", ["Unknown status «finished»"]),
        ("/measure 1 progress 50", ["The progress of 1 is computed from its activities."]),
        ("/measure 1.3 progress 101", ["a whole number from 0 to 100"]),
        ("/measure 9.9 progress 10", ["Usage:"]),
    ])  # fmt: skip
    assert "Status: in progress → late\nNema podataka od JKP" in bot.channel.to("bob")[-1].text

    await bot.say("bob", Press(data_of(bot, "bob", "Show the measure")))
    history = await bot.say("bob", Press(data_of(bot, "bob", "History")))
    text = history[0].text
    assert "17 May 2026, 11:00 · Kata: progress 25% → 60% — Q2 report drafted" in text
    assert "Kata: milestone reached: Izveštaj za drugi kvartal" in text
    assert "Kata: status: in progress → late — Nema podataka od JKP" in text
    assert text.index("60%") < text.index("milestone reached") < text.index("late")


async def test_only_an_admin_or_the_measures_service_may_change_it(plan_bot: Bot) -> None:
    bot = plan_bot
    await bot.play("ana", [("/measure 1.3 progress 90", ["for municipal staff only"])])
    await bot.play("vesna", [("/measure 1.3 progress 90", [
        "Only an admin or the measure's service may change it."])])  # fmt: skip
    await bot.play("vesna", [("/measure 2.3 progress 90", [
        "Only an admin or the measure's service may change it."])])  # fmt: skip
    await bot.play("boss", [("/measure 2.3 progress 90", ["Progress: 40% → 90%"])])
    await bot.play("boss", [("/measure 2.3 progress 90", ["Nothing changed"])])
    await bot.play("ana", [(Press("menu:plan"), ["2. Učešće građana", "▓▓▓░░░░░░░ 30%"])])


async def test_finishing_an_activity_sets_it_done(plan_bot: Bot) -> None:
    bot = plan_bot
    await bot.play("kata", [("/measure 1.3 progress 100", ["Status: in progress → done"])])
    await bot.play("boss", [("/measure 2.1 progress 10", ["Status: not started → in progress"])])
    await bot.play("boss", [("/measure 2.2 status done", ["Status: not started → done"])])
    await bot.say("ana", Press("menu:plan"))
    done = "[2.2. Javna rasprava o nacrtu budžeta za 2027… (100%)]"
    await bot.play("ana", [(Press(data_of(bot, "ana", "2. U")), [done])])


async def run_overdue(bot: Bot) -> int:
    app = bot.app
    return await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "plan-overdue"))


async def test_an_overdue_measure_is_marked_late_and_followers_are_told_once_across_a_restart(
    plan_bot: Bot,
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
) -> None:
    bot = plan_bot
    await bot.say("ana", Press("menu:plan"))
    await bot.say("ana", Press(data_of(bot, "ana", "1. Prijava")))
    await bot.say("ana", Press(data_of(bot, "ana", "Follow")))
    # 1.2 ended on 31.03.2026 at 60% (the clock says 17.05.2026).
    assert await run_overdue(bot) == 1
    await bot.app.sender.drain()
    notice = bot.channel.to("ana")[-1].text
    assert "1.2. Obuka zaposlenih" in notice
    assert "It was due on 31 Mar 2026 and is not done: it is now marked late." in notice
    assert await run_overdue(bot) == 0

    # Staff set it going again: it is not marked late again for the same date.
    await bot.play("kata", [("/measure 1.2 status in_progress Obuka nastavljena", ["late → in"])])
    assert await run_overdue(bot) == 0

    # A restart: the file's measures are stored again, and still nothing is told twice.
    channel = CollectingChannel()
    async with build_app(
        settings, one_plan(municipality), {"test": channel}, clock=clock, geocoder=geocoder
    ) as again:
        job = find_job(again.deps.registry, "plan-overdue")
        assert await run_job(again.db, again.deps, again.sender, job) == 0
        clock.advance(days=300)  # now 1.3 (ends 31.12.2026) and others are past their end
        assert await run_job(again.db, again.deps, again.sender, job) > 0
        assert await run_job(again.db, again.deps, again.sender, job) == 0


async def test_a_restart_keeps_what_staff_set_and_takes_the_files_texts(
    plan_bot: Bot,
    settings: Settings,
    municipality: Municipality,
    clock: FakeClock,
    geocoder: FakeGeocoder,
) -> None:
    bot = plan_bot
    await bot.say("kata", "/measure 1.3 progress 60")
    await bot.say("kata", "/measure 1.3 milestone 2")
    single = one_plan(municipality)
    renamed = tuple(
        replace(m, title="Нови наслов", progress=0) if m.key == "1.3" else m
        for m in single.plan.measures
    )
    changed = replace(single, plan=replace(single.plan, measures=renamed))
    channel = CollectingChannel()
    async with build_app(
        settings, changed, {"test": channel}, clock=clock, geocoder=geocoder
    ) as app:
        again = Bot(app, channel, clock)
        await again.say("ana", Press("menu:plan"))
        await again.say("ana", Press(data_of(again, "ana", "1. Prijava")))
        shown = await again.say("ana", Press(data_of(again, "ana", "1.3.")))
    assert "1.3. Novi naslov" in shown[0].text
    assert "▓▓▓▓▓▓░░░░ 60%" in shown[0].text
    assert "✅ 2. Izveštaj za drugi kvartal (due 15 Jul 2026)" in shown[0].text


async def test_a_residents_question_goes_to_the_measures_staff_and_the_answer_back(
    plan_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = plan_bot
    caplog.set_level("DEBUG", logger="handlers")
    caplog.set_level("DEBUG", logger="bot")
    await bot.say("ana", Press("menu:plan"))
    await bot.say("ana", Press(data_of(bot, "ana", "1. Prijava")))
    await bot.say("ana", Press(data_of(bot, "ana", "1.3.")))
    question = "When will the report for Q2 be published?"
    await bot.play("ana", [
        (Press(data_of(bot, "ana", "Comment or question")), [
            "Write your comment or question on 1.3. Tromesečni izveštaj"]),
        ("/plan", ["Please write your comment as a text message, or /cancel."]),  # kept
        (question, ["Thank you! Your comment was sent to the staff responsible for it."]),
    ])  # fmt: skip
    for staff in ("kata", "boss"):  # the measure's service and the admin; not the water service
        assert "💬 Comment #1 on 1.3. Tromesečni izveštaj" in bot.channel.to(staff)[-1].text
        assert question in bot.channel.to(staff)[-1].text
    assert all(question not in r.text for r in bot.channel.to("vesna"))
    await bot.play("vesna", [("/plananswer 1 Soon.", ["Only an admin or the measure's service"])])
    await bot.play("kata", [
        ("/plananswer 99 Soon.", ["Usage: /plananswer ID TEXT"]),
        ("/plananswer 1 In July, on the municipality's site.", ["The answer was sent."]),
    ])  # fmt: skip
    told = bot.channel.to("ana")[-1].text
    assert "The municipality answered your comment on 1.3." in told
    assert "In July, on the municipality's site." in told
    assert question not in caplog.text


async def test_a_milestone_is_reached_on_the_municipalitys_day(plan_bot: Bot) -> None:
    """22:30 UTC on 17 May is past midnight in Vlasotince: the milestone is reached on the 18th."""
    bot = plan_bot
    bot.clock.advance(hours=13, minutes=30)
    await bot.say("kata", "/measure 1.3 milestone 2")
    async with bot.app.db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT done_on FROM plan_milestones m JOIN plan_measures p ON p.id = m.measure_id"
            " WHERE p.key = '1.3' AND m.position = 2"
        )
    assert [r[0] for r in rows] == ["2026-05-18"]

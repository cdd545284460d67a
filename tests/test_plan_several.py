"""Several plans (Vlasotince publishes its open-government plan and a youth plan): residents
choose the plan first, keys are unique per plan only, staff name the plan where a key is in both,
and every notice, comment and late notice says which plan its measure is in."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_app
from bot.scheduler import find_job, run_job
from bot.settings import Settings
from handlers.events import File
from handlers.i18n import translator
from handlers.municipality import (
    Municipality,
    MunicipalityFileError,
    StaffMember,
    load_municipality,
)
from handlers.plan.importer import PlanFileError, read_plan
from storage import plan as store
from tests.conftest import ROOT, VLASOTINCE, Bot, OnScreen, Press
from tests.fakes.ports import CollectingChannel, FakeClock, FakeGeocoder
from tests.test_migrations import build_at
from tests.test_plan import KATA, data_of

OGP = "Local action plan for open government of the Municipality of Vlasotince 2026–2027"
YOUTH = "Local youth action plan of the Municipality of Vlasotince 2026–2028"
SERVICES = {"communal", "water"}
EN = translator("en")


@pytest.fixture
async def plans_bot(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> AsyncIterator[Bot]:
    """The bot with Vlasotince's two plans, an admin and an operator of the communal service;
    everyone has chosen English."""
    assert municipality.plan.several
    m = replace(municipality, staff=(StaffMember("test", "boss", "Шеф", "admin", ()), KATA))
    channel = CollectingChannel()
    async with build_app(settings, m, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        for user in ("boss", "kata", "ana", "bob"):
            await bot.say(user, "/start")
            await bot.say(user, Press("lang:en"))
        yield bot


async def open_measure(bot: Bot, user: str, plan: str, *labels: str) -> None:
    """Go from the main menu's "Action plan" through a plan to a measure."""
    await bot.say(user, Press("menu:plan"))
    await bot.say(user, Press(data_of(bot, user, plan)))
    for label in labels:
        await bot.say(user, Press(data_of(bot, user, label)))


async def test_with_two_plans_residents_choose_the_plan_first(plans_bot: Bot) -> None:
    bot = plans_bot
    await bot.play("ana", [
        (Press("menu:plan"), [
            "The municipality publishes these plans. Which one would you like to see?",
            f"[{OGP[:59].rstrip()}…]", f"[{YOUTH[:59].rstrip()}…]", "[↩️ Main menu]",
        ]),
    ])  # fmt: skip
    (shown,) = await bot.say("ana", Press(data_of(bot, "ana", "youth")))
    assert shown.text.startswith(f"📋 {YOUTH}\n(An example plan")
    assert "1. Kancelarija za mlade: informisanje i savetovanje mladih\n▓▓▓" in shown.text
    assert "Prijava komunalnih problema" not in shown.text  # the other plan's
    labels = [b.label for row in shown.buttons for b in row]
    assert labels[:2] == ["1. Kancelarija za mlade: informisanje i sa… (25%)",
                          "2. Stručna praksa za mlade bez radnog isku… (0%)"]  # fmt: skip
    assert "↩️ All plans" in labels
    assert shown.photos  # the picture of this plan only
    steps = [
        ("1. Kancelarija", ["(computed from its activities below)",
                            "[1.1. Otvaranje prostora Kancelarije"]),
        ("1.1.", ["⬜ 1. Opremanje prostora (due 30 Jun 2026)"]),
        ("Action plan", [f"📋 {YOUTH}"]),  # back to its own plan
        ("All plans", ["Which one would you like to see?"]),
        ("open government", [f"📋 {OGP}", "1. Prijava komunalnih"]),
    ]  # fmt: skip
    for label, expected in steps:  # each button is on the screen the step before shows
        await bot.play("ana", [(Press(data_of(bot, "ana", label)), expected)])
    await bot.play("ana", [(Press("pplan:nosuchplan"), ["Please choose one of the options"])])


async def test_staff_name_the_plan_of_a_shared_key_and_only_its_followers_are_told(
    plans_bot: Bot,
) -> None:
    bot = plans_bot
    # ana follows 1.1 of the open-government plan, bob 1.1 of the youth plan.
    await open_measure(bot, "ana", "open government", "1. Prijava", "1.1.")
    await bot.say("ana", Press(data_of(bot, "ana", "Follow")))
    await open_measure(bot, "bob", "youth", "1. Kancelarija", "1.1.")
    await bot.play("bob", [
        (Press(data_of(bot, "bob", "Follow")), [
            f"You follow 1.1. Otvaranje prostora Kancelarije za mlade u Domu kulture — {YOUTH}",
        ]),
    ])  # fmt: skip
    ana_before, bob_before = len(bot.channel.to("ana")), len(bot.channel.to("bob"))
    # An operator is refused before being told which plans share a key, and is shown only the
    # measures that they may change.
    refused = "Only an admin or the measure's service may change it."
    await bot.play("kata", [
        ("/measure 2 progress 10", [refused]),
        ("/measure 1.1 progress 70", [
            "Several plans have a measure 1.1; name its plan: /measure ogp:1.1"]),
    ])  # fmt: skip
    assert "mladi" not in bot.channel.to("kata")[-1].text

    await bot.play("boss", [
        ("/measure 1.1 progress 70", [
            "Several plans have a measure 1.1; name its plan: /measure ogp:1.1, /measure mladi:1.1",
        ]),
        ("/measure youth:1.1 progress 70", ["Usage:", "PLAN:KEY (such as lap:1.2)"]),
        ("/measure mladi:1.1 progress 70 Prostor opremljen", [
            f"Saved: 1.1. Otvaranje prostora Kancelarije za mlade u Domu kulture — {YOUTH}",
            "Progress: 50% → 70%",
        ]),
    ])  # fmt: skip
    told = bot.channel.to("bob")[bob_before:]
    assert len(told) == 1
    heading = f"1.1. Otvaranje prostora Kancelarije za mlade u Domu kulture — {YOUTH}"
    assert told[0].text.startswith(f"📋 {heading}\nProgress: 50% → 70%\nProstor opremljen")
    assert bot.channel.to("ana")[ana_before:] == []  # the other plan's 1.1 did not change
    async with bot.app.db.transaction() as conn:
        (ogp,) = await store.by_key(conn, "1.1", "ogp")
        (youth,) = await store.by_key(conn, "1.1", "mladi")
    assert (ogp.progress, youth.progress) == (100, 70)

    # A key that only one plan has needs no plan; its followers are in that plan.
    await bot.play("kata", [("/measure 1.3 progress 60", ["Saved: 1.3.", f"— {OGP}"])])
    assert len(bot.channel.to("bob")) == bob_before + 1
    await bot.play("kata", [("/measure ogp:1.1 status in_progress Dorada", ["done → in progress"])])
    assert "Dorada" in bot.channel.to("ana")[-1].text
    assert len(bot.channel.to("bob")) == bob_before + 1


async def test_a_comment_and_the_late_notice_name_the_measures_plan(plans_bot: Bot) -> None:
    bot = plans_bot
    await open_measure(bot, "ana", "youth", "1. Kancelarija", "1.1.")
    await bot.say("ana", Press(data_of(bot, "ana", "Follow")))
    await bot.say("ana", Press(data_of(bot, "ana", "Back to the measure")))
    await bot.say("ana", Press(data_of(bot, "ana", "Comment or question")))
    await bot.say("ana", "Kada se otvara?")
    notice = bot.channel.to("boss")[-1].text
    assert notice.startswith(f"💬 Comment #1 on 1.1. Otvaranje prostora Kancelarije za mlade u Domu"
                             f" kulture — {YOUTH}:\nKada se otvara?")  # fmt: skip
    assert all("Kada se otvara?" not in r.text for r in bot.channel.to("kata"))  # not its service
    await bot.play("boss", [("/plananswer 1 U oktobru.", ["The answer was sent."])])
    assert f"comment on 1.1. Otvaranje prostora Kancelarije za mlade u Domu kulture — {YOUTH}" in (
        bot.channel.to("ana")[-1].text
    )

    # The youth plan's 1.1 ends on 30.09.2026; the clock says 17.05.2026.
    bot.clock.advance(days=140)
    app = bot.app
    job = find_job(app.deps.registry, "plan-overdue")
    assert await run_job(app.db, app.deps, app.sender, job) > 0
    await app.sender.drain()
    late = [r.text for r in bot.channel.to("ana") if "now marked late" in r.text]
    assert late == [
        f"📋 1.1. Otvaranje prostora Kancelarije za mlade u Domu kulture — {YOUTH}\n"
        "⏰ It was due on 30 Sept 2026 and is not done: it is now marked late."
    ]
    assert await run_job(app.db, app.deps, app.sender, job) == 0


# Importing into a plan: a plan column, or the plan given to the import.

PLAN_HEADER = ["План", "Шифра", "Надређена", "Врста", "Назив", "Рок", "Напредак"]


def plan_csv(rows: list[list[str]], header: list[str] = PLAN_HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode("utf-8")


def test_a_plan_column_puts_each_row_in_its_plan_and_the_keys_are_unique_per_plan(
    municipality: Municipality,
) -> None:
    content = plan_csv([
        ["ogp", "1", "", "", "Пријава проблема", "", ""],
        ["mladi", "1", "", "", "Канцеларија за младе", "", ""],
        ["mladi", "1.1", "1", "", "Простор", "30.09.2026.", "50"],
        ["mladi", "1.1", "", "корак", "Опремање", "30.06.2026.", ""],
        ["", "2", "", "", "Стручна пракса", "", ""],
    ])  # fmt: skip
    measures = read_plan("planovi.csv", content, SERVICES, municipality.plan)
    assert [(m.plan, m.key, m.parent_key) for m in measures] == [
        ("ogp", "1", None), ("mladi", "1", None), ("mladi", "1.1", "1"), ("ogp", "2", None),
    ]  # fmt: skip
    assert [x.text for x in measures[2].milestones] == ["Опремање"]
    # A row without a plan goes to the plan the import was given.
    given = read_plan("planovi.csv", content, SERVICES, municipality.plan, "mladi")
    assert given[3].plan == "mladi"


def test_an_unknown_plan_and_a_key_twice_in_one_plan_are_told_by_line_and_column(
    municipality: Municipality,
) -> None:
    content = plan_csv([
        ["omladina", "1", "", "", "Канцеларија", "", ""],
        ["mladi", "2", "", "", "Пракса", "", ""],
        ["mladi", "2", "", "", "Пракса опет", "", ""],
        ["ogp", "2.1", "2", "", "Активност", "", ""],
    ])  # fmt: skip
    with pytest.raises(PlanFileError) as e:
        read_plan("planovi.csv", content, SERVICES, municipality.plan)
    assert e.value.render(EN) == [
        "planovi.csv, line 2, column 1 (План): unknown plan «omladina»; the plans: ogp, mladi",
        "planovi.csv, line 4, column 2 (Шифра): the key «2» is used twice",
        # 2 is a measure of the youth plan, not of this row's plan.
        "planovi.csv, line 5, column 3 (Надређена): the parent «2» is not a measure above this one",
    ]


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "BOT_CONFIG": str(VLASOTINCE)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "plan", "import", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_the_command_line_imports_into_the_plan_it_is_given(tmp_path: Path) -> None:
    path = tmp_path / "mladi.csv"
    path.write_bytes(plan_csv([["", "1", "", "", "Канцеларија", "", "10"]]))
    wrong = cli(tmp_path, "--plan", "omladina", str(path))
    assert wrong.returncode == 2
    assert "omladina" in wrong.stderr
    assert "ogp, mladi" in wrong.stderr
    done = cli(tmp_path, "--plan", "mladi", str(path))
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(tmp_path / "data" / "bot.db")
    try:
        stored = conn.execute("SELECT plan, key, progress FROM plan_measures").fetchall()
    finally:
        conn.close()
    assert stored == [("mladi", "1", 10)]


async def test_the_admin_imports_into_a_plan_in_chat(plans_bot: Bot) -> None:
    bot = plans_bot
    boss = bot.sender("boss")
    new = plan_csv([["", "9", "", "", "Волонтерски сервис", "", ""],
                    ["ogp", "1", "", "", "Пријава проблема", "", ""]])  # fmt: skip
    await bot.play("boss", [
        ("/plan import omladina", ["No plan has the id «omladina»; the plans: ogp, mladi"]),
        ("/plan import mladi", ["Send the action plan file",
                                f"Rows without a plan column go to {YOUTH} (mladi)."]),
        (File(boss, "document", name="nova.csv", content=new, size=len(new)), [
            "nova.csv: 2 measures read, 1 new, 1 already in the plan (updated).",
            "🆕 mladi:9 Волонтерски сервис", "✏️ ogp:1 Пријава проблема",
        ]),
        (OnScreen("planimp:ok"), ["Imported: 2 measures"]),
    ])  # fmt: skip
    async with bot.app.db.transaction() as conn:
        assert [m.plan for m in await store.by_key(conn, "9")] == ["mladi"]
        (ogp,) = await store.by_key(conn, "1", "ogp")
        (youth,) = await store.by_key(conn, "1", "mladi")
    assert ogp.title == "Пријава проблема"
    assert youth.title == "Канцеларија за младе: информисање и саветовање младих"  # untouched


# The upgrade: measures stored before plans had ids are the default plan's.


async def test_after_the_upgrade_the_first_start_gives_the_old_measures_to_the_default_plan(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    build_at(settings.database, 23)  # the seeds: 1 and 1.1 (late at 60%, followed), a comment
    channel = CollectingChannel()
    async with (
        build_app(settings, municipality, {"test": channel}, clock=clock, geocoder=geocoder) as app,
        app.db.transaction() as conn,
    ):
        measures = await store.all_measures(conn)
        (old,) = await store.by_key(conn, "1.1", "ogp")
        comment = await store.get_comment(conn, 1)
        followers = await store.followers(conn, [1])
    # The same rows, now the open-government plan's (the file's measures were merged into them,
    # keeping what staff had set); nothing is left without a plan, and no key is there twice.
    assert (old.id, old.status, old.progress) == (2, "late", 60)
    assert old.title == "Покретање чет-бота за пријаву проблема (Телеграм, Вајбер)"  # the file's
    assert "" not in {m.plan for m in measures}
    assert len({(m.plan, m.key) for m in measures}) == len(measures) == 17
    assert comment is not None
    assert comment.measure_id == 2
    assert [f[0] for f in followers] == [1]


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ('default = "x"\n[[plan.plans]]\nid = "ogp"\ntitle = "А"\n',
         "[plan]: 'default' names no plan ('x')"),
        ('[[plan.plans]]\nid = "ogp"\ntitle = "А"\n[[plan.plans]]\nid = "ogp"\ntitle = "Б"\n',
         "plan #2: the id 'ogp' is used twice"),
        ('[[plan.plans]]\nid = "OGP:1"\ntitle = "А"\n', "plan #1: 'id' must be a short id"),
        ('[[plan.plans]]\nid = "ogp"\n', "plan #1: needs a 'title'"),
        ('[[plan.plans]]\nid = "ogp"\ntitle = { en = "Plan" }\n',
         "plan #1: 'title' needs the Serbian text (sr)"),
        ('[[plan.plans]]\nid = "ogp"\ntitle = { sr = "А", de = "Plan" }\n',
         "plan #1: 'title' has an unknown language 'de'"),
        ('title = "А"\n[[plan.plans]]\nid = "ogp"\ntitle = "А"\n',
         "[plan]: with [[plan.plans]] each plan has its own 'title'"),
    ],
)  # fmt: skip
def test_a_wrong_list_of_plans_stops_the_bot_naming_the_plan(
    tmp_path: Path, plan: str, problem: str
) -> None:
    path = tmp_path / "m.toml"
    text = VLASOTINCE.read_text(encoding="utf-8").split("\n[plan]")[0]
    path.write_text(f"{text}\n[plan]\n{plan}", encoding="utf-8")
    with pytest.raises(MunicipalityFileError) as e:
        load_municipality(path)
    assert problem in str(e.value)


# A plan the municipality file no longer publishes: its stored measures are not served.


def only_ogp(municipality: Municipality) -> Municipality:
    """The file after the youth plan was taken out of it (its measures stay in the database)."""
    plans = municipality.plan
    kept = replace(
        plans,
        plans=tuple(p for p in plans.plans if p.id == "ogp"),
        default="ogp",
        measures=tuple(m for m in plans.measures if m.plan == "ogp"),
    )
    return replace(municipality, plan=kept)


async def test_a_plan_no_longer_published_shows_follows_comments_and_warns_of_nothing(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> None:
    staff = replace(municipality, staff=(StaffMember("test", "boss", "Шеф", "admin", ()), KATA))
    channel = CollectingChannel()
    async with build_app(settings, staff, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        for user in ("ana", "bob"):
            await bot.say(user, "/start")
            await bot.say(user, Press("lang:en"))
        await open_measure(bot, "bob", "youth", "1. Kancelarija", "1.1.")
        await bot.say("bob", Press(data_of(bot, "bob", "Follow")))
        await open_measure(bot, "ana", "youth", "1. Kancelarija")
        show = data_of(bot, "ana", "1.1.")
        await bot.say("ana", Press(show))
        labels = ("History", "Comment or question", "Follow")
        stale = [show, *(data_of(bot, "ana", label) for label in labels)]
        await open_measure(bot, "ana", "open government", "1. Prijava")
        published = data_of(bot, "ana", "1.1.")
        async with app.db.transaction() as conn:
            (youth,) = await store.by_key(conn, "1.1", "mladi")
            (bob,) = await store.followers(conn, [youth.id])

    channel = CollectingChannel()
    later = only_ogp(staff)
    async with build_app(settings, later, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        for data in stale:  # a stale or forged button of the youth plan: the hint
            await bot.play("ana", [(Press(data), ["Please choose one of the options below."])])
        await bot.play("ana", [(Press(published), ["1.1. ", "[🕘 History]"])])  # its plan's: shown
        async with app.db.transaction() as conn:
            assert await store.followers(conn, [youth.id]) == [bob]  # ana does not follow it
        # The youth plan's 1.1 ends on 30.09.2026: the late job leaves it alone.
        clock.advance(days=140)
        job = find_job(app.deps.registry, "plan-overdue")
        await run_job(app.db, app.deps, app.sender, job)
        await app.sender.drain()
        assert [r.text for r in channel.to("bob") if "now marked late" in r.text] == []
        async with app.db.transaction() as conn:
            after = await store.get(conn, youth.id)
    assert after is not None
    assert after.status == youth.status != "late"


NOT_ABOVE = "the parent «{}» is not a measure above this one"


# Rows without a plan take the import's plan before their parents and milestones are looked up.

MIXED = [
    ["mladi", "7", "", "", "Волонтерски сервис", "", ""],
    ["", "7.1", "7", "", "Обука волонтера", "30.09.2026.", "20"],
    ["", "7", "", "корак", "Први састанак", "30.06.2026.", ""],
    ["", "8", "", "", "Омладински савет", "", ""],
    ["mladi", "8.1", "8", "", "Избор чланова", "", ""],
    ["mladi", "8", "", "корак", "Позив", "", ""],
]  # fmt: skip


async def test_rows_without_a_plan_are_in_the_imports_plan_for_their_parents_and_milestones(
    plans_bot: Bot, municipality: Municipality
) -> None:
    bot = plans_bot
    boss = bot.sender("boss")
    mixed = plan_csv(MIXED)
    await bot.play("boss", [
        ("/plan import mladi", [f"Rows without a plan column go to {YOUTH} (mladi)."]),
        (File(boss, "document", name="mladi.csv", content=mixed, size=len(mixed)), [
            "mladi.csv: 4 measures read, 4 new, 0 already in the plan (updated).",
            "🆕 mladi:7 Волонтерски сервис", "🆕 mladi:7.1 Обука волонтера",
            "🆕 mladi:8 Омладински савет", "🆕 mladi:8.1 Избор чланова",
        ]),
        (OnScreen("planimp:ok"), ["Imported: 4 measures"]),
    ])  # fmt: skip
    async with bot.app.db.transaction() as conn:
        (seven,) = await store.by_key(conn, "7", "mladi")
        (activity,) = await store.by_key(conn, "7.1", "mladi")
        (eight,) = await store.by_key(conn, "8", "mladi")
        (member,) = await store.by_key(conn, "8.1", "mladi")
        milestones = [[s.text for s in await store.milestones(conn, m.id)] for m in (seven, eight)]
    assert (activity.parent_id, member.parent_id) == (seven.id, eight.id)
    assert milestones == [["Први састанак"], ["Позив"]]

    # Into the other plan, the same rows clash; each problem names its file, line and column.
    await bot.play("boss", [
        ("/plan import ogp", ["Send the action plan file"]),
        (File(boss, "document", name="mladi.csv", content=mixed, size=len(mixed)), [
            "Nothing was imported.",
            f"mladi.csv, line 3, column 3 (Надређена): {NOT_ABOVE.format(7)}",
            "mladi.csv, line 4, column 2 (Шифра): no measure has the key «7»",
            f"mladi.csv, line 6, column 3 (Надређена): {NOT_ABOVE.format(8)}",
            "mladi.csv, line 7, column 2 (Шифра): no measure has the key «8»",
        ]),
    ])  # fmt: skip
    # The command line reads rows without a plan into the plan it is given, the same way.
    measures = read_plan("mladi.csv", mixed, SERVICES, municipality.plan, "mladi")
    assert [(m.plan, m.key, m.parent_key) for m in measures] == [
        ("mladi", "7", None), ("mladi", "7.1", "7"), ("mladi", "8", None), ("mladi", "8.1", "8"),
    ]  # fmt: skip


async def test_a_comment_on_a_plan_no_longer_published_cannot_be_answered(
    settings: Settings, municipality: Municipality, clock: FakeClock, geocoder: FakeGeocoder
) -> None:
    staff = replace(municipality, staff=(StaffMember("test", "boss", "Шеф", "admin", ()), KATA))
    channel = CollectingChannel()
    async with build_app(settings, staff, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        for user in ("ana", "boss", "kata"):
            await bot.say(user, "/start")
            await bot.say(user, Press("lang:en"))
        await open_measure(bot, "ana", "youth", "1. Kancelarija", "1.1.")
        await bot.say("ana", Press(data_of(bot, "ana", "Comment or question")))
        await bot.play("ana", [("When does the office open?", ["Thank you! Your comment"])])
        assert "💬 Comment #1 on " in bot.channel.to("boss")[-1].text

    channel = CollectingChannel()
    later = only_ogp(staff)
    async with build_app(settings, later, {"test": channel}, clock=clock, geocoder=geocoder) as app:
        bot = Bot(app, channel, clock)
        # Staff who may not answer it are refused first and learn nothing of its plan.
        refused = "Only an admin or the measure's service may change it."
        await bot.play("kata", [("/plananswer 1 Monday.", [refused]), ("/plananswer 1", [refused])])
        await bot.play("boss", [
            ("/plananswer 1 Next Monday.", [
                "Comment #1 is on a measure of a plan that the municipality no longer publishes;"
                " it cannot be answered here."]),
        ])  # fmt: skip
        assert channel.to("ana") == []  # no answer went to the resident
        staff_only = "This is for municipal staff only; nothing was changed."
        await bot.play("ana", [("/plananswer 1 Next Monday.", [staff_only])])
        async with app.db.transaction() as conn:
            comment = await store.get_comment(conn, 1)
    assert comment is not None
    assert comment.answer is None

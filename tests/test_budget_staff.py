"""The admin imports a budget by sending the document in chat: through the fake Bot API, the
document's bytes are downloaded, checked whole, previewed with the changes, then published."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from handlers.budget import followers, importer
from handlers.budget.followers import lagging, render_news, year_share
from handlers.events import File
from handlers.i18n import translator
from storage.budget import Total, Version
from tests.conftest import ROOT, DialogInput, Office, OnScreen, Press, Running

EXAMPLES = ROOT / "config" / "budget"
ADOPTED = (EXAMPLES / "vlasotince-2026-adopted-EXAMPLE.csv").read_bytes()
JUNE = (EXAMPLES / "vlasotince-2026-execution-06-30-EXAMPLE.csv").read_bytes()
# A rebalance of the adopted budget that gives the Nemanjina street 3.5 million more (roads only).
REBALANCE = (
    ADOPTED.decode()
    .replace("Немањине улице;451;511;01;86.000.000,00", "Немањине улице;451;511;01;89.500.000,00")
    .replace("rashodi;0701;;;;;;159.800.000,00", "rashodi;0701;;;;;;163.300.000,00")
    .replace("rashodi;;;;;;;1.401.600.000,00", "rashodi;;;;;;;1.405.100.000,00")
    .replace(
        "Порез на зараде;;711111;01;360.000.000,00", "Порез на зараде;;711111;01;363.500.000,00"
    )
    .replace("prihodi;;;;;;;1.401.600.000,00", "prihodi;;;;;;;1.405.100.000,00")
    .encode()
)
RESIDENT = 5001
ADMIN = 100000101  # the admin of config/vlasotince.toml


def published(db: Path) -> list[tuple[str, str, bool]]:
    conn = sqlite3.connect(db)
    try:
        return [
            (str(r[0]), str(r[1]), r[2] is not None)
            for r in conn.execute(
                "SELECT kind, as_of, published_at FROM budget_versions ORDER BY id"
            )
        ]
    finally:
        conn.close()


def stored_lines(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM budget_lines").fetchone()[0])
    finally:
        conn.close()


async def test_an_admin_imports_by_document_and_residents_see_it(running: Running) -> None:
    fake, app = running.fake, running.app
    for user in (RESIDENT, ADMIN):
        fake.push_command(user, "start")
        fake.push_callback(user, "lang:en")
        await running.wait_text(user, "Welcome")
    fake.push_command(ADMIN, "budget", "import")
    await running.wait_text(ADMIN, "Which document are you importing?")
    fake.push_callback(ADMIN, "budk:adopted")
    await running.wait_text(ADMIN, "As of which date are the figures?")
    fake.push_text(ADMIN, "20.12.2025 2026")
    await running.wait_text(ADMIN, "Send the budget file as a document")
    fake.push_document(ADMIN, ADOPTED, file_name="budzet-2026.csv", mime_type="text/csv")
    await running.wait_text(ADMIN, "budzet-2026.csv: adopted budget for 2026, as of 20 Dec 2025")
    await running.wait_text(ADMIN, "This is the first version of this year's budget.")
    db = app.db.path
    assert db is not None
    assert published(db) == [("adopted", "2025-12-20", False)]
    fake.push_callback(RESIDENT, "menu:budget")
    await running.wait_text(RESIDENT, "has not published its budget here yet")
    fake.push_callback(ADMIN, "budc:ok")
    await running.wait_text(ADMIN, "Published: residents now see this version")
    assert published(db) == [("adopted", "2025-12-20", True)]
    # The overview comes with its chart, drawn by the sender: delivered when the outbox drains.
    await running.handled(fake.push_callback(RESIDENT, "menu:budget"))
    assert "Budget of Vlasotince for 2026" in running.texts(RESIDENT)[-1]

    # The next document: its errors first (nothing stored), then the corrected file.
    fake.push_command(ADMIN, "budget", "import")
    fake.push_callback(ADMIN, "budk:execution")
    fake.push_text(ADMIN, "30.06.2026")
    await running.wait_text(ADMIN, "Send the budget file as a document")
    broken = JUNE.replace(b";0701;0701-0002;", b";0701;1102-0002;", 1)
    fake.push_document(ADMIN, broken, file_name="izvrsenje.csv", mime_type="text/csv")
    await running.wait_text(ADMIN, "does not belong to program 0701")
    await running.wait_text(ADMIN, "izvrsenje.csv, line")
    assert len(published(db)) == 1
    fake.push_document(ADMIN, JUNE, file_name="izvrsenje.csv", mime_type="text/csv")
    await running.wait_text(ADMIN, "Differences in the plan are against the adopted budget")
    fake.push_callback(ADMIN, "budc:ok")
    await running.wait_text(ADMIN, "Published")
    await running.handled(fake.push_callback(RESIDENT, "menu:budget"))
    assert "Execution report as of 30 Jun 2026" in running.texts(RESIDENT)[-1]


def document(office: Office, user: str, content: bytes | None, name: str = "b.csv") -> File:
    size = len(content or b"") or 6_000_000
    return File(office.bot.sender(user), "document", name=name, content=content, size=size)


async def test_only_admins_import_and_a_dropped_version_is_never_shown(office: Office) -> None:
    bot = office.bot
    for user in ("vesna", "mila"):
        await bot.play(user, [("/budget import", ["This is for municipal staff only"])])
    await bot.play(
        "boss",
        [
            ("/budget", ["Usage: /budget import"]),
            ("/budget import", ["Which document are you importing?", "[Execution report]"]),
            (Press("budk:forecast"), ["Please choose the kind of document with the buttons."]),
            (Press("budk:execution"), ["As of which date are the figures?"]),
            ("31.02.2026", ["Please write the date as 30.06.2026"]),
            ("30.06.2026", ["Send the budget file as a document"]),
            ("here it is", ["Please send the file as a document"]),
            (
                document(office, "boss", None),
                ["The file is larger than 5 MB, too large for the chat. Send a smaller one"],
            ),
            (
                File(bot.sender("boss"), "document", name="b.csv", content=None, size=900),
                ["The file did not come through (the messenger did not give it)."],
            ),
            (document(office, "boss", b"\x00\x01binary"), ["not a CSV file"]),
            (document(office, "boss", JUNE, "jun.csv"), ["jun.csv: execution report for 2026"]),
            # A resident cannot press the admin's buttons (the engine checks the role).
            (Press("budc:maybe"), ["Please publish or drop the preview with the buttons."]),
            (Press("budc:drop"), ["Dropped; nothing was published."]),
        ],
    )
    db = bot.app.db.path
    assert db is not None
    assert (published(db), stored_lines(db)) == ([], 0)  # the version and its lines
    await bot.play("mila", [(Press("menu:budget"), ["has not published its budget here yet"])])
    assert all("Published" not in r.text for r in await bot.say("mila", Press("budc:ok")))


async def test_followers_are_told_what_changed_once_it_is_published(office: Office) -> None:
    bot = office.bot
    await bot.say("mila", Press("menu:notify"))
    await bot.play("mila", [(Press("sub:budget"), ["Budget"])])
    for kind, when, content in (
        ("adopted", "20.12.2025 2026", ADOPTED),
        ("execution", "30.06.2026", JUNE),
    ):
        await bot.say("boss", "/budget import")
        await bot.say("boss", Press(f"budk:{kind}"))
        await bot.say("boss", when)
        await bot.say("boss", document(office, "boss", content))
        before = len(bot.channel.to("mila"))
        await bot.play("boss", [(Press("budc:ok"), ["Sending: 0 / 1", "Published"])])
    news = [r.text for r in bot.channel.to("mila")[before:]]
    assert news == [
        "💰 The budget of Vlasotince for 2026 was updated: execution report as of 30 Jun 2026.\n"
        "Spent so far: 45% of the plan."
    ]


def test_a_program_lags_when_its_execution_is_well_below_the_years_share() -> None:
    june = Version(1, 2026, "execution", date(2026, 6, 30), "x.csv")
    assert year_share(june.as_of, 2026) == 50
    programs = [Total("0701", "", 1000, 340), Total("1102", "", 1000, 350), Total("2001", "", 0, 0)]
    assert [p.key for p in lagging(june, programs)] == ["0701"]
    adopted = Version(2, 2026, "adopted", date(2025, 12, 20), "y.csv")
    assert lagging(adopted, programs) == []
    text = render_news(
        translator("en"), "Vlasotince", june, programs, {"0701": Total("0701", "", 900, 0)}
    )
    assert "Behind the year (50% of it has passed):\n• Transport and roads: 34%" in text.text
    assert "Changes in the plan:\n• Transport and roads: +0.0 million dinars" in text.text


async def publish(office: Office, kind: str, when: str, content: bytes) -> None:
    bot = office.bot
    await bot.say("boss", "/budget import")
    await bot.say("boss", Press(f"budk:{kind}"))
    await bot.say("boss", when)
    await bot.say("boss", document(office, "boss", content))
    await bot.play("boss", [(Press("budc:ok"), ["Published"])])


async def open_program(office: Office, user: str, label: str) -> str:
    """Open a program from the budget overview; the data of its follow button."""
    overview = await office.bot.say(user, Press("menu:budget"))
    data = next(b.data for row in overview[0].buttons for b in row if b.label.startswith(label))
    program = await office.bot.say(user, Press(data))
    return next(b.data for row in program[0].buttons for b in row if b.data.startswith("budf:"))


async def test_a_resident_follows_one_program_and_hears_only_of_its_changes(office: Office) -> None:
    bot = office.bot
    await publish(office, "adopted", "20.12.2025 2026", ADOPTED)
    roads = await open_program(office, "mila", "Transport and roads")
    await bot.play(
        "mila",
        [
            (
                Press(roads),
                [
                    "You follow Transport and roads: when a new execution report or rebalance",
                    "0701 Transport and roads (2026)",
                    "[🔕 Stop following this program]",
                ],
            )
        ],
    )
    communal = await open_program(office, "petar", "Communal activities")
    await bot.say("petar", Press(communal))
    # Vesna follows the whole budget and roads: one message with both.
    await bot.say("vesna", Press("menu:notify"))
    await bot.say("vesna", Press("sub:budget"))
    await bot.say("vesna", Press(await open_program(office, "vesna", "Transport and roads")))
    before = {user: len(bot.channel.to(user)) for user in ("mila", "petar", "vesna")}

    await publish(office, "rebalance", "15.03.2026", REBALANCE)
    news = {user: [r.text for r in bot.channel.to(user)[n:]] for user, n in before.items()}
    assert news["mila"] == [
        "💰 The budget of Vlasotince for 2026 was updated: rebalance as of 15 Mar 2026.\n"
        "The programs you follow:\n"
        "• Transport and roads: planned 163.3 million dinars; the plan changed by"
        " +3.5 million dinars"
    ]
    assert news["petar"] == []  # communal activities did not change
    assert news["vesna"] == [
        "💰 The budget of Vlasotince for 2026 was updated: rebalance as of 15 Mar 2026.\n"
        "Changes in the plan:\n• Transport and roads: +3.5 million dinars\n"
        "The programs you follow:\n"
        "• Transport and roads: planned 163.3 million dinars; the plan changed by"
        " +3.5 million dinars"
    ]

    await bot.play("mila", [(Press(roads), ["You no longer follow Transport and roads."])])
    before = {user: len(bot.channel.to(user)) for user in ("mila", "petar")}
    await publish(office, "execution", "30.06.2026", JUNE)
    news = {user: [r.text for r in bot.channel.to(user)[n:]] for user, n in before.items()}
    assert news == {
        "mila": [],
        "petar": [
            "💰 The budget of Vlasotince for 2026 was updated: execution report as of"
            " 30 Jun 2026.\nThe programs you follow:\n"
            "• Communal activities: 76.7 million dinars of 184.0 million dinars spent (42%)"
        ],
    }


def test_a_followed_program_that_lags_says_so() -> None:
    june = Version(1, 2026, "execution", date(2026, 6, 30), "x.csv")
    roads = Total("0701", "", 1000, 340)
    news = followers.News(june, [roads], {"0701": Total("0701", "", 1000, 0)})
    assert followers.program_line(translator("en"), news, roads) == (
        "• Transport and roads: 0.0 million dinars of 0.0 million dinars spent (34%);"
        " behind the year (50% of it has passed)"
    )


async def test_the_file_is_read_before_the_transaction_not_in_it(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoding and checking a file (a 5,000-line one takes a while) happens in the dispatcher's
    slow work before the transaction, so the database's write lock is not held meanwhile."""
    conn = office.bot.app.db.conn
    in_transaction: list[bool] = []
    read_rows = importer._rows

    def spy(content: bytes) -> tuple[list[importer.Row], str]:
        in_transaction.append(conn.in_transaction)
        return read_rows(content)

    monkeypatch.setattr(importer, "_rows", spy)
    bot = office.bot
    for item in ("/budget import", Press("budk:execution"), "30.06.2026"):
        await bot.say("boss", item)
    await bot.play(
        "boss",
        [
            (document(office, "boss", ADOPTED, "a.csv"), ["a.csv, line 1, column izvrseno"]),
            (document(office, "boss", JUNE, "jun.csv"), ["jun.csv: execution report for 2026"]),
        ],
    )
    assert in_transaction == [False, False]


async def test_publish_under_an_earlier_preview_publishes_nothing(office: Office) -> None:
    # The admin previews a file, drops it, previews another: the first preview's Publish must
    # not publish the second version.
    bot = office.bot
    steps: list[DialogInput] = [
        "/budget import", Press("budk:adopted"), "20.12.2025 2026",
        document(office, "boss", ADOPTED, "a.csv"),
    ]  # fmt: skip
    for step in steps:
        await bot.say("boss", step)
    first = bot.button("boss", "budc:ok")
    await bot.say("boss", OnScreen("budc:drop"))
    for step in [*steps[:3], document(office, "boss", ADOPTED, "b.csv")]:
        await bot.say("boss", step)
    second = bot.button("boss", "budc:ok")

    stale = await bot.say("boss", first)

    assert stale[0].text == "That button is no longer valid."
    db = bot.app.db.path
    assert db is not None
    assert published(db) == [("adopted", "2025-12-20", False)]
    await bot.say("boss", second)
    assert published(db) == [("adopted", "2025-12-20", True)]

"""The budget's audit: every staff action (an import previewed, refused, published or dropped; a
consultation opened or closed; an answer given or changed; a participatory budgeting round
prepared, its shortlist, its voting opened, paper votes, closed with its results) writes exactly
one entry in its own transaction; staff read the history with /budget history and on a proposal's
card; residents never see it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.scheduler import find_job, run_job
from storage import budget_audit, budget_pb
from storage.budget_audit import Action
from tests.conftest import Office, Press, read_export
from tests.test_budget_import import ADOPTED as EXAMPLE
from tests.test_budget_import import cli
from tests.test_budget_staff import ADOPTED, document

REASON = "The sidewalk is in the draft; the bridge waits for 2028."
Row = tuple[Any, ...]


def entries(db: Path) -> list[Row]:
    """(actor's messenger id or None, action, object, object id, detail, text) of each entry."""
    conn = sqlite3.connect(db)
    try:
        return list(
            conn.execute(
                "SELECT u.external_id, e.action, e.object, e.object_id, e.detail, e.text"
                " FROM budget_events e LEFT JOIN users u ON u.id = e.actor_id ORDER BY e.id"
            )
        )
    finally:
        conn.close()


def db_of(office: Office) -> Path:
    path = office.bot.app.db.path
    assert path is not None
    return path


async def say_all(office: Office, user: str, items: list[Any]) -> None:
    for item in items:
        await office.bot.say(user, item)


IMPORT = ["/budget import", Press("budk:adopted"), "20.12.2025 2026"]
CONSULT = "/budget consult 2027 17.05.2026 31.05.2026"


async def propose(office: Office) -> None:
    """An open consultation with Mila's proposal #1."""
    await office.bot.say("boss", CONSULT)
    await file_proposal(office, "mila", "A sidewalk by the school")


async def file_proposal(office: Office, user: str, title: str) -> None:
    """A resident's proposal to the open consultation."""
    overview = await office.bot.say(user, Press("menu:budget"))
    data = next(b.data for row in overview[0].buttons for b in row if b.data.startswith("bpr"))
    await say_all(
        office, user,
        [Press(data), Press("bpp:0701"), title, Press("bpn:skip"), Press("bpn:send")],
    )  # fmt: skip


async def answered(office: Office) -> None:
    await propose(office)
    await say_all(office, "boss", [Press("bpv:1:partly"), REASON])


async def prepared_round(office: Office) -> None:
    await office.bot.say("boss", "/pb new 10.000.000 Mesna zajednica 2027")


async def shortlist(office: Office) -> None:
    await prepared_round(office)
    await office.bot.say("boss", "/pb add 6.000.000 Playground in the park")


async def voting(office: Office) -> None:
    await shortlist(office)
    await office.bot.say("boss", "/pb open")
    await say_all(office, "mila", [Press("pbb:1"), Press("pbt:1:1")])


async def paper_counted(office: Office) -> None:
    """An open round where a clerk typed 110 paper votes for 11."""
    await voting(office)
    await office.bot.say("boss", "/pb paper 1 110")


async def nothing(office: Office) -> None:
    del office


@dataclass(frozen=True)
class Case:
    """How to get to an action (``before``), the action itself, and the entry it must write."""

    before: Callable[[Office], Awaitable[None]]
    act: list[Any]
    entry: tuple[str, int | None, dict[str, Any], str | None]  # object, id, detail, text


async def previewed(office: Office) -> None:
    await say_all(office, "boss", [*IMPORT, document(office, "boss", ADOPTED, "b.csv")])


def document_later(name: str, content: bytes) -> Callable[[Office], Any]:
    """A document input built when the office exists (its sender)."""
    return lambda office: document(office, "boss", content, name)


BROKEN = b"\x00\x01 not a budget"  # one problem: not a CSV file nor a workbook
ADOPTED_FACTS = {"kind": "adopted", "year": 2026, "as_of": "2025-12-20", "file": "b.csv"}

CASES: dict[Action, Case] = {
    Action.IMPORT_REFUSED: Case(
        lambda o: say_all(o, "boss", IMPORT), [document_later("x.csv", BROKEN)],
        ("file", None, {"file": "x.csv", "kind": "adopted", "problems": 1}, None),
    ),
    Action.IMPORT_PREVIEWED: Case(
        lambda o: say_all(o, "boss", IMPORT), [document_later("b.csv", ADOPTED)],
        ("version", 1, ADOPTED_FACTS, None),
    ),
    Action.IMPORT_PUBLISHED: Case(
        previewed, [Press("budc:ok")], ("version", 1, ADOPTED_FACTS, None)
    ),
    Action.IMPORT_DROPPED: Case(
        previewed, [Press("budc:drop")],
        ("version", None, ADOPTED_FACTS | {"dropped": True, "id": 1}, None),
    ),
    Action.CONSULTATION_OPENED: Case(
        nothing, [CONSULT],
        ("consultation", 2, {"year": 2027, "starts": "2026-05-17", "ends": "2026-05-31"}, None),
    ),
    Action.CONSULTATION_CHANGED: Case(
        lambda o: say_all(o, "boss", [CONSULT]), ["/budget consult 2027 17.05.2026 15.06.2026"],
        ("consultation", 2, {"year": 2027, "starts": "2026-05-17", "ends": "2026-06-15",
                             "old_starts": "2026-05-17", "old_ends": "2026-05-31"}, None),
    ),
    Action.CONSULTATION_CLOSED: Case(
        propose, ["/budget consult close"],
        ("consultation", 2, {"year": 2027, "proposals": 1}, None),
    ),
    Action.ANSWER_GIVEN: Case(
        propose, [Press("bpv:1:partly"), REASON],
        ("proposal", 1, {"verdict": "partly"}, REASON),
    ),
    Action.ANSWER_CHANGED: Case(
        answered, [Press("bpc:1:taken:partly"), "All of it, after all."],
        ("proposal", 1, {"verdict": "taken", "old": "partly"}, "All of it, after all."),
    ),
    Action.ROUND_PREPARED: Case(
        nothing, ["/pb new 10.000.000 Mesna zajednica 2027"],
        ("round", 1, {"title": "Mesna zajednica 2027", "total": 1_000_000_000}, None),
    ),
    Action.PROJECT_ADDED: Case(
        prepared_round, ["/pb add 6.000.000 Playground in the park"],
        ("project", 1, {"round": 1, "name": "Playground in the park", "cost": 600_000_000}, None),
    ),
    Action.ROUND_OPENED: Case(
        shortlist, ["/pb open"],
        ("round", 1, {"title": "Mesna zajednica 2027", "max_projects": None}, None),
    ),
    Action.PAPER_VOTES: Case(
        voting, ["/pb paper 1 25"],
        ("project", 1, {"round": 1, "name": "Playground in the park", "votes": 25}, None),
    ),
    Action.PAPER_CORRECTED: Case(
        paper_counted, ["/pb paper 1 =11"],
        ("project", 1, {"round": 1, "name": "Playground in the park", "old": 110, "new": 11},
         None),
    ),
    Action.ROUND_CLOSED: Case(
        voting, ["/pb close"],
        ("round", 1, {"title": "Mesna zajednica 2027", "funded": [1]}, None),
    ),
}  # fmt: skip


@pytest.mark.parametrize("action", list(Action), ids=str)
async def test_each_staff_action_writes_one_entry_of_who_what_and_its_object(
    office: Office, action: Action
) -> None:
    case = CASES[action]  # a KeyError: an action without a walk here
    await case.before(office)
    db = db_of(office)
    before = len(entries(db))
    for item in case.act:
        await office.bot.say("boss", item(office) if callable(item) else item)
    written = entries(db)[before:]
    obj, obj_id, detail, text = case.entry
    assert [(w[0], w[1], w[2], w[3], json.loads(w[4]), w[5]) for w in written] == [
        ("boss", str(action), obj, obj_id, detail, text)
    ]


async def test_staff_page_through_the_history_in_their_language(office: Office) -> None:
    bot = office.bot
    await bot.play("boss", [("/budget history", ["Nothing has been done in the budget yet."])])
    await bot.say("boss", "/pb new 100.000.000 Mesna zajednica 2027")
    for n in range(1, 12):
        bot.clock.advance(minutes=1)
        await bot.say("boss", f"/pb add {n}.000.000 Project {n}")
    # Newest first, ten a screen; the eleventh project and the round are behind the button.
    await bot.play(
        "boss",
        [
            (
                "/budget history",
                [
                    "📜 The budget's history, newest first:\n"
                    "17 May 2026, 11:11 · Boss: put project #11 Project 11 (11.0 million dinars)"
                    " on the shortlist of round #1\n"
                    "17 May 2026, 11:10 · Boss: put project #10",
                    "17 May 2026, 11:02 · Boss: put project #2 Project 2",
                    "[⏩ Older]",
                ],
            ),
        ],
    )
    shown = bot.channel.to("boss")[-1]
    assert "project #1 " not in shown.text
    older = shown.buttons[0][0].data
    # A resident can neither ask for it nor press its button (the declarations' roles).
    await bot.play("mila", [("/budget history", ["This is for municipal staff only"])])
    assert all("Boss" not in r.text for r in await bot.say("mila", Press(older)))
    await bot.say("boss", "/language")
    await bot.say("boss", Press("lang:sr-Latn"))
    page = (await bot.say("boss", Press(older)))[0]
    # The first project, then the round; the dates as Serbian writes them.
    first, prepared = page.text.splitlines()[1:]
    assert first.startswith("17. 5. 2026. 11:01 · Boss: ")
    assert "#1 Project 1" in first
    assert prepared.startswith("17. 5. 2026. 11:00 · Boss: ")
    assert "#1 Mesna zajednica 2027" in prepared
    assert not page.buttons


async def test_a_proposals_card_shows_its_history_and_the_resident_only_the_answer(
    office: Office,
) -> None:
    bot = office.bot
    await answered(office)
    bot.clock.advance(hours=2)
    await say_all(office, "boss", [Press("bpc:1:taken:partly"), "All of it, after all."])
    await bot.play(
        "boss",
        [
            (
                "/budget proposals answered",
                [
                    "📋 Answered proposals, the latest first (1–1); press one to see it or change"
                    " its answer:\n#1 Transport and roads · taken into the draft: A sidewalk by"
                    " the school",
                    "[#1 A sidewalk by the school]",
                ],
            ),
            (
                Press("bpo:1:1:0"),
                [
                    "#1 Transport and roads\nA sidewalk by the school\n"
                    "Answer: taken into the draft\nAll of it, after all.\n\nHistory:\n"
                    "17 May 2026, 11:00 · Boss: answered proposal #1: partly taken into the draft"
                    f"\n   «{REASON}»\n"
                    "17 May 2026, 13:00 · Boss: changed the answer to proposal #1: partly taken"
                    " into the draft → taken into the draft\n   «All of it, after all.»",
                    "[Partly taken into the draft]",
                    "[Not taken into the draft]",
                ],
            ),
            # The first answer's buttons, pressed late, do not change it.
            (Press("bpv:1:not"), ["That proposal was already answered."]),
        ],
    )
    told = [r.text for r in bot.channel.to("mila")[-2:]]
    assert told == [
        f"The municipality answered your proposal #1 for the budget: partly taken into the"
        f" draft.\n{REASON}",
        "The municipality changed its answer to your proposal #1 for the budget: taken into the"
        " draft.\nAll of it, after all.",
    ]
    mine = await bot.say("mila", Press("bpm"))
    assert "Taken into the draft: All of it, after all." in mine[0].text
    for staff_only in ("History", "Boss", REASON, "answered proposal"):
        assert all(staff_only not in r.text for r in mine)


async def test_an_action_and_its_entry_are_one_transaction(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    await voting(office)
    db = db_of(office)
    before = entries(db)

    async def fails(*args: object) -> list[Any]:
        raise RuntimeError("the voters could not be read")

    # /pb close writes its entry, then reads the voters: the failure takes back both.
    monkeypatch.setattr(budget_pb, "voters", fails)
    await office.bot.say("boss", "/pb close")
    assert entries(db) == before
    monkeypatch.undo()
    assert (await budget_pb.current(office.bot.app.db.conn)) is not None  # still open
    await office.bot.say("boss", "/pb close")
    assert [e[1] for e in entries(db)[len(before) :]] == ["round_closed"]


async def test_what_the_bot_does_by_the_municipality_file_is_in_the_history(
    office: Office,
) -> None:
    """The file's period (October 2026 in config/vlasotince.toml) opens and closes by itself:
    entries without a staff member, said as the bot's."""
    bot = office.bot
    app = bot.app
    job = find_job(app.deps.registry, "budget-consultation-period")
    bot.clock.moment = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
    await run_job(app.db, app.deps, app.sender, job)
    bot.clock.advance(days=31)
    await run_job(app.db, app.deps, app.sender, job)
    found = [(e[0], e[1]) for e in entries(db_of(office))]
    assert found == [(None, "consultation_opened"), (None, "consultation_closed")]
    history = (await bot.say("boss", "/budget history"))[-1].text
    assert "the bot, by the municipality file: closed the consultation on the" in history
    assert "the bot, by the municipality file: opened the consultation on the" in history


async def test_an_erasure_takes_the_reason_given_to_the_residents_proposal(office: Office) -> None:
    await answered(office)
    await office.bot.say("mila", "/deleteme")
    await office.bot.say("mila", Press("erase:yes"))
    kept = [(e[0], e[1], e[3], json.loads(e[4]), e[5]) for e in entries(db_of(office))]
    # Detached from the id the next proposal may get, marked as an erased one's.
    erased = {"verdict": "partly", "erased": True, "id": 1}
    assert kept[-1] == ("boss", "answer_given", None, erased, None)
    assert await budget_audit.latest(office.bot.app.db.conn, 10)


async def test_a_new_proposal_on_an_erased_ones_id_starts_without_its_history(
    office: Office,
) -> None:
    """SQLite gives the newest deleted row's id again: the next proposal is #1 once more."""
    bot = office.bot
    await answered(office)
    await say_all(office, "mila", ["/deleteme", Press("erase:yes")])
    await say_all(office, "ana", ["/start", Press("lang:en")])
    await file_proposal(office, "ana", "A bench at the bus stop")
    (listed,) = await bot.say("boss", "/budget proposals")
    assert [b.data for row in listed.buttons for b in row] == ["bpo:1:0:0"]
    cards = await bot.say("boss", Press("bpo:1:0:0"))
    assert len(cards) == 1
    assert "#1 Transport and roads\nA bench at the bus stop" in cards[0].text
    assert all("History" not in c.text and "Boss" not in c.text for c in cards)
    history = (await bot.say("boss", "/budget history"))[-1].text
    assert "answered proposal #1: partly taken into the draft (erased at its author's request)" in (
        history
    )


def test_the_command_lines_import_is_in_the_history_as_its_own(tmp_path: Path) -> None:
    done = cli(tmp_path, str(EXAMPLE), "--kind", "adopted", "--as-of", "2025-12-20",
               "--year", "2026")  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = [
        (e[0], e[1], e[2], e[3], json.loads(e[4])) for e in entries(tmp_path / "data" / "bot.db")
    ]
    assert written == [
        (None, "import_published", "version", 1,
         {"kind": "adopted", "year": 2026, "as_of": "2025-12-20", "file": EXAMPLE.name,
          "by": "command line"}),
    ]  # fmt: skip


async def test_a_preview_made_before_the_audit_is_published_from_its_stored_version(
    office: Office,
) -> None:
    """Before the audit a preview's draft held only its version's id: the document's facts come
    from the stored version, not from the draft."""
    await previewed(office)
    db = db_of(office)
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                "UPDATE conversations SET draft = json_object('version_id',"
                " (SELECT MAX(id) FROM budget_versions))"
                " WHERE user_id = (SELECT id FROM users WHERE external_id = 'boss')"
            )
    finally:
        conn.close()
    before = entries(db)
    await office.bot.play(
        "boss", [(Press("budc:ok"), ["Published: residents now see this version of the budget."])]
    )
    found = [(e[1], e[2], json.loads(e[4])) for e in entries(db)[len(before) :]]
    facts = {"as_of": "2025-12-20", "file": "b.csv", "kind": "adopted", "year": 2026}
    assert found == [("import_published", "version", facts)]


async def test_a_preview_replaced_by_a_new_import_is_dropped_in_the_history(
    office: Office,
) -> None:
    await previewed(office)
    await say_all(office, "boss", ["/cancel", *IMPORT, document(office, "boss", ADOPTED, "c.csv")])
    found = [(e[1], e[3], json.loads(e[4])["file"]) for e in entries(db_of(office))]
    # The new version gets the dropped one's id again: the dropped one's entries are detached.
    assert found == [
        ("import_previewed", None, "b.csv"), ("import_dropped", None, "b.csv"),
        ("import_previewed", 1, "c.csv"),
    ]  # fmt: skip
    await office.bot.say("boss", "/cancel")
    history = (await office.bot.say("boss", "/budget history"))[-1].text
    assert "Boss: dropped version 1: adopted budget for 2026, 20 Dec 2025" in history


async def test_a_stale_change_button_does_not_override_a_colleagues_newer_answer(
    office: Office,
) -> None:
    bot = office.bot
    await answered(office)
    assert "Added" in (await office.staff("boss", "/staff add test ana admin"))[0]
    await say_all(office, "ana", ["/start", Press("lang:en")])

    def change_to(card: Any, verdict: str) -> Press:
        return Press(next(b.data for r in card.buttons for b in r if f":{verdict}" in b.data))

    await bot.say("boss", "/budget proposals answered")
    await bot.say("ana", "/budget proposals answered")
    boss_card = (await bot.say("boss", Press("bpo:1:1:0")))[0]
    ana_card = (await bot.say("ana", Press("bpo:1:1:0")))[0]
    await say_all(office, "boss", [change_to(boss_card, "taken"), "All of it, after all."])
    told = len(bot.channel.to("mila"))
    replies = await bot.say("ana", change_to(ana_card, "not"))
    assert replies[0].text == (
        "The answer to proposal #1 was changed meanwhile; nothing was changed now."
        " Here is the proposal as it is:"
    )
    assert "Answer: taken into the draft\nAll of it, after all." in replies[1].text
    await bot.say("ana", "Not at all.")  # not taken as a reason
    assert [e[1] for e in entries(db_of(office))][-1] == "answer_changed"
    assert json.loads(entries(db_of(office))[-1][4]) == {"verdict": "taken", "old": "partly"}
    assert len(bot.channel.to("mila")) == told


async def test_the_residents_export_has_their_proposals_answers_and_no_staff(
    office: Office,
) -> None:
    bot = office.bot
    await answered(office)
    bot.clock.advance(hours=2)
    await say_all(office, "boss", [Press("bpc:1:taken:partly"), "All of it, after all."])
    text, exported = read_export(bot, await bot.say("mila", "/mydata"))
    (proposal,) = exported["consultation_comments"]
    changed = "All of it, after all."
    assert proposal["answers"] == [
        {"at": "2026-05-17T09:00:00.000000+00:00", "verdict": "partly", "reason": REASON},
        {"at": "2026-05-17T11:00:00.000000+00:00", "verdict": "taken", "reason": changed},
    ]
    assert f"17 May 2026, 11:00: partly taken into the draft: {REASON}" in text
    assert "17 May 2026, 13:00: taken into the draft: All of it, after all." in text
    for staff in ("boss", "Шеф", "Šef", "actor"):  # who answered stays the municipality's
        assert staff not in json.dumps(exported, ensure_ascii=False) + text

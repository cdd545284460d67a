""" "Is it one of these?": open reports of the same problem nearby, "me too" followers, /dup."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.scheduler import find_job, run_job
from handlers.i18n import translator
from handlers.municipality import Municipality, MunicipalityFileError, load_municipality
from storage import opendata, reports
from storage.sql import fetch_all
from tests.conftest import (
    REF,
    ROOT,
    WATER_CHAT,
    DialogInput,
    Office,
    Picture,
    Pin,
    Press,
    jpeg,
    read_export,
)

NEAR = Pin(42.9662, 22.1291)  # about 14 m from the leak of conftest.leak_report
FAR = Pin(42.9700, 22.1290)  # about 430 m away
SECOND = "VLA-2026-00002"
WATER = "Water supply and sewage"


def leak_until_the_place(place: Pin, category: str = "water_sewage") -> list[DialogInput]:
    """Another resident's report of a leak, up to its location."""
    return [
        "/start", Press("lang:en"), Press("menu:report"), Press(f"cat:{category}"),
        "Water runs down the street from the corner", Picture(jpeg("green")),
        Press("photos:done"), place,
    ]  # fmt: skip


async def _until_the_place(office: Office, user: str, place: Pin = NEAR) -> list[str]:
    """Play a report up to its location; the texts of the replies to the location."""
    for item in leak_until_the_place(place)[:-1]:
        await office.bot.say(user, item)
    return [r.text for r in await office.bot.say(user, place)]


async def followers_of(office: Office, report_id: int) -> list[int]:
    rows = await fetch_all(
        office.bot.app.db.conn,
        "SELECT user_id FROM report_followers WHERE report_id = ? ORDER BY user_id",
        (report_id,),
    )
    return [int(r[0]) for r in rows]


def residents_line(office: Office, n: int) -> str:
    """The staff card's count of the residents who reported a problem, in the staff's language."""
    t = translator(office.bot.app.deps.municipality.staff_language)
    return t.ngettext(
        "{n} resident reported this problem", "{n} residents reported this problem", n
    )


async def user_id(office: Office, name: str) -> int:
    rows = await fetch_all(
        office.bot.app.db.conn, "SELECT id FROM users WHERE external_id = ?", (name,)
    )
    return int(rows[0][0])


async def test_same_problem_makes_the_resident_a_follower_and_files_nothing(
    office: Office,
) -> None:
    await office.report_leak("ana")
    office.bot.clock.advance(hours=5)
    await office.bot.play(
        "bob",
        [
            *[(item, []) for item in leak_until_the_place(NEAR)[:-1]],
            (
                NEAR,
                [
                    "📍 Location received.",
                    "1 open report of the same kind is near that place:",
                    f"{REF} · new\n14 m from your place · reported 5 hours ago\n"
                    "Water is gushing from a pipe on the corner",
                    "Is it one of these?",
                    f"[✅ Same problem: {REF} (14 m)]",
                    "[➕ No, a new one]",
                ],
            ),
            (Press("same:1"), [f"Thank you! You now follow {REF}", "No new report was filed."]),
            (
                Press("menu:mine"),
                ["You have 1 report.", f"[{REF} · Water supply and sewage · new]"],
            ),
        ],
    )
    assert await reports.find_by_ref(office.bot.app.db.conn, SECOND) is None
    assert await followers_of(office, 1) == [await user_id(office, "bob")]
    card = next(r for r in office.chat(WATER_CHAT) if r.key == "card:1")  # edited in place
    assert (card.key, card.edit) == ("card:1", True)
    assert residents_line(office, 2) in card.text
    # The candidate was shown with its photo and without the reporter's name.
    shown = office.bot.channel.to("bob")
    assert any(r.photos for r in shown if r.text.startswith(REF))
    assert not any("Ana" in r.text for r in shown)


async def test_a_follower_gets_the_news_but_not_the_reporters_question(office: Office) -> None:
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await office.bot.say("bob", Press("same:1"))
    await office.bot.say("ana", Press("rep:1"))
    await office.bot.say("ana", Press("cm:1"))
    await office.bot.say("ana", "My neighbour Zorka says it started on Monday")
    await office.staff("vesna", f"/ack {REF}")
    assert "is now: acknowledged." in office.bot.channel.to("bob")[-1].text
    await office.staff("vesna", f"/reply {REF} The crew comes tomorrow")
    assert "The crew comes tomorrow" in office.bot.channel.to("bob")[-1].text
    await office.staff("vesna", f"/resolve {REF}")
    await office.staff("vesna", "/cancel")
    assert "is now: resolved." in office.bot.channel.to("bob")[-1].text
    assert not office.bot.channel.to("bob")[-1].buttons  # "is it fixed?" is the reporter's
    assert "Is the problem fixed?" in office.bot.channel.to("ana")[-1].text
    details = (await office.bot.say("bob", Press("rep:1")))[0]
    assert "The crew comes tomorrow" in details.text
    assert "Zorka" not in details.text  # the reporter's comment is not the follower's to read
    assert "cm:1" not in [b.data for row in details.buttons for b in row]


async def test_no_a_new_one_goes_on_to_the_summary(office: Office) -> None:
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await office.bot.play(
        "bob",
        [
            (Press("notsame:new"), ["Please check your report"]),
            (Press("sum:confirm"), [SECOND]),
        ],
    )
    assert await followers_of(office, 1) == []


async def test_far_away_other_kinds_and_ended_reports_are_not_offered(office: Office) -> None:
    await office.report_leak("ana")
    assert "Please check your report" in "".join(await _until_the_place(office, "bob", FAR))
    await office.bot.say("bob", "/cancel")
    for item in leak_until_the_place(NEAR, "garbage"):
        said = await office.bot.say("cid", item)
    assert "Please check your report" in said[-1].text
    await office.staff("vesna", f"/reject {REF} not ours")
    assert "Please check your report" in "".join(await _until_the_place(office, "dan"))


async def test_stale_and_made_up_same_problem_buttons_file_nothing_wrong(office: Office) -> None:
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await office.bot.play(
        "bob",
        [
            (Press("same:999"), ["Please press the report that is your problem", "[➕ No"]),
            (Press("same:x"), ["Please press the report that is your problem"]),
        ],
    )
    await office.staff("vesna", f"/reject {REF} not ours")  # closed while bob looked
    await office.bot.play(
        "bob",
        [
            (
                Press("same:1"),
                ["That report is no longer open, so yours is a new one.", "Please check"],
            ),
            (Press("sum:confirm"), [SECOND]),
        ],
    )
    assert await followers_of(office, 1) == []
    # Pressed again from the main menu, the old button does nothing.
    await office.bot.play("bob", [(Press("same:1"), ["What would you like to do?"])])
    assert await followers_of(office, 1) == []


async def test_dup_moves_the_reporter_and_the_followers_to_the_original(office: Office) -> None:
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await office.bot.say("bob", Press("notsame:new"))
    await office.bot.say("bob", Press("sum:confirm"))
    await _until_the_place(office, "cid")
    said = await office.bot.say("cid", Press(f"same:{2}"))
    assert f"You now follow {SECOND}" in said[0].text
    answer = await office.staff("vesna", f"/dup {SECOND} {REF}")
    assert answer == [f"{SECOND} is now rejected.", f"2 residents now follow {REF}."]
    for user in ("bob", "cid"):
        told = [r.text for r in office.bot.channel.to(user)[-2:]]
        assert f"rejected: a duplicate of {REF}" in told[0]
        assert f"already reported as {REF}" in told[1]
    bob, cid = await user_id(office, "bob"), await user_id(office, "cid")
    assert await followers_of(office, 1) == [bob, cid]
    assert await followers_of(office, 2) == []
    card = next(r for r in reversed(office.chat(WATER_CHAT)) if r.key == "card:1")
    assert residents_line(office, 3) in card.text
    await office.staff("vesna", f"/ack {REF}")
    for user in ("ana", "bob", "cid"):
        assert f"{REF} (Water supply and sewage) is now: acknowledged." in (
            office.bot.channel.to(user)[-1].text
        )


async def test_erasing_a_follower_stops_their_news(office: Office) -> None:
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await office.bot.say("bob", Press("same:1"))
    await office.bot.say("bob", "/deleteme")
    await office.bot.say("bob", Press("erase:yes"))
    assert await followers_of(office, 1) == []
    before = len(office.bot.channel.to("bob"))
    await office.staff("vesna", f"/ack {REF}")
    assert len(office.bot.channel.to("bob")) == before


async def test_erasing_the_reporter_keeps_the_followers_news(office: Office) -> None:
    """The followers' messages naming the report are not staff copies: they stay, pending ones
    included, and the followers keep getting the report's news."""
    bot = office.bot
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await bot.say("bob", Press("same:1"))
    await bot.say("ana", "/deleteme")
    # The operator acts while Ana is asked; the news to Bob is still pending when she says yes.
    await bot.app.dispatcher.dispatch(bot.event("vesna", f"/ack {REF}"))
    await bot.say("ana", Press("erase:yes"))
    acknowledged = f"{REF} (Water supply and sewage) is now: acknowledged."
    assert acknowledged in bot.channel.to("bob")[-1].text
    assert await followers_of(office, 1) == [await user_id(office, "bob")]
    await office.staff("vesna", f"/progress {REF}")
    assert f"{REF} (Water supply and sewage) is now: in progress." in (
        bot.channel.to("bob")[-1].text
    )


async def test_retention_drops_the_followers_of_an_erased_reporters_report(
    office: Office,
) -> None:
    """The erasure keeps the followers while the report is open; once it ends and the retention
    passes, they go like those of any ended report (the erasure already set anonymised_at)."""
    bot = office.bot
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await bot.say("bob", Press("same:1"))
    await bot.say("ana", "/deleteme")
    await bot.say("ana", Press("erase:yes"))
    await office.staff("vesna", f"/reject {REF} Not ours.")
    assert await followers_of(office, 1) == [await user_id(office, "bob")]
    retention = find_job(bot.app.deps.registry, "privacy-retention")
    bot.clock.advance(days=30 * 23)
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, retention)
    assert await followers_of(office, 1) == [await user_id(office, "bob")]  # not yet
    bot.clock.advance(days=62)
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, retention)
    assert await followers_of(office, 1) == []


def test_the_search_radius_is_set_per_category(tmp_path: Path) -> None:
    text = (ROOT / "config" / "lapovo.toml").read_text(encoding="utf-8")
    path = tmp_path / "lapovo.toml"
    path.write_text(
        text.replace('id = "garbage"\n', 'id = "garbage"\nduplicate_radius_m = 40\n'),
        encoding="utf-8",
    )
    m = load_municipality(path)
    assert m.categories["garbage"].duplicate_radius_m == 40
    assert m.categories["road_damage"].duplicate_radius_m == 150
    for wrong in ("-1", "5000", '"far"'):
        path.write_text(
            text.replace('id = "garbage"\n', f'id = "garbage"\nduplicate_radius_m = {wrong}\n'),
            encoding="utf-8",
        )
        with pytest.raises(MunicipalityFileError, match="duplicate_radius_m"):
            load_municipality(path)


class TestRadiusZero:
    """A category whose radius is 0 is never searched."""

    @pytest.fixture
    def municipality(self) -> Municipality:
        m = load_municipality(ROOT / "config" / "vlasotince.toml")
        water = replace(m.categories["water_sewage"], duplicate_radius_m=0)
        return replace(m, categories={**m.categories, "water_sewage": water})

    async def test_radius_zero_turns_the_search_off(self, office: Office) -> None:
        await office.report_leak("ana")
        assert "Please check your report" in "".join(await _until_the_place(office, "bob"))


async def test_a_quick_report_from_a_location_is_offered_the_same_problem(office: Office) -> None:
    await office.report_leak("ana")
    await office.bot.play(
        "bob",
        [
            ("/start", []),
            (Press("lang:en"), []),
            (NEAR, ["📍 Location received.", "What kind of problem is it?"]),
            (Press("cat:water_sewage"), ["Describe the problem"]),
            ("Water runs down the street", ["Send up to 3 photos"]),
            (Press("photos:skip"), ["1 open report of the same kind", "Is it one of these?"]),
            (Press("same:1"), [f"You now follow {REF}"]),
        ],
    )
    assert await reports.find_by_ref(office.bot.app.db.conn, SECOND) is None


async def test_the_offer_is_made_once_per_category_and_place(office: Office) -> None:
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await office.bot.play(
        "bob",
        [
            (Press("notsame:new"), ["Please check your report"]),
            (Press("sum:edit"), []),
            (Press("edit:description"), []),
            ("Water runs down the whole street", ["Please check your report"]),
            (Press("sum:edit"), []),
            (Press("edit:location"), []),
            (Pin(42.96625, 22.12915), ["Is it one of these?"]),  # a new place: asked again
        ],
    )


async def test_mydata_lists_the_reports_followed_and_retention_drops_the_followers(
    office: Office,
) -> None:
    app = office.bot.app
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await office.bot.say("bob", Press("same:1"))
    readable, exported = read_export(office.bot, await office.bot.say("bob", "/mydata"))
    assert f"Reports you follow (the same problem as yours): {REF}" in readable
    assert [f["ref"] for f in exported["reports_followed"]] == [REF]
    await office.staff("vesna", f"/reject {REF} Not ours.")
    office.bot.clock.advance(days=30 * 25 + 62)
    await run_job(app.db, app.deps, app.sender, find_job(app.deps.registry, "privacy-retention"))
    assert await followers_of(office, 1) == []


BOB_SAYS = "Water runs down the street from the corner"  # leak_until_the_place's description


async def follower_parts(office: Office) -> list[tuple[str | None, str | None, int]]:
    rows = await fetch_all(
        office.bot.app.db.conn,
        "SELECT text, photo, actor_id FROM report_events WHERE kind = 'follower' ORDER BY id",
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


async def test_a_followers_description_and_photos_go_to_the_staff_marked_as_theirs(
    office: Office,
) -> None:
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    staff_before = len(office.chat(WATER_CHAT))
    await office.bot.play("bob", [
        (Press("same:1"), [
            f"Thank you! You now follow {REF}",
            f"Your description and photos were added to {REF} for the municipal staff.",
        ]),
    ])  # fmt: skip
    (part,) = office.chat(WATER_CHAT)[staff_before:]  # and the card, edited in place
    assert office.staff_chats.edits[-1][2].key == "card:1"
    t = translator(office.bot.app.deps.municipality.staff_language)  # the staff chat's
    heading = t.gettext(
        "👥 From a resident who reported the same problem and now follows {ref}:", ref=REF
    )
    assert part.text == f"{heading}\n{BOB_SAYS}"
    (photo,) = part.photos
    assert await follower_parts(office) == [(BOB_SAYS, photo, await user_id(office, "bob"))]
    shown = "\n".join(await office.staff("vesna", f"/show {REF}"))
    assert f"· From a resident who follows it - {BOB_SAYS}" in shown
    # Another resident's words: neither the reporter nor the public gets them.
    for user in ("ana", "bob"):
        details = (await office.bot.say(user, Press("rep:1")))[0].text
        assert BOB_SAYS not in details
        assert "From a resident who follows it" not in details
    public = await opendata.notes_of(office.bot.app.db.conn, [1])  # Open311's and the site's
    assert [n.kind for n in public] == ["created"]
    _readable, exported = read_export(office.bot, await office.bot.say("bob", "/mydata"))
    assert [m["text"] for m in exported["report_messages"]] == [BOB_SAYS]


async def test_erasing_a_follower_takes_their_part_of_the_report(office: Office) -> None:
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await office.bot.say("bob", Press("same:1"))
    ((_text, photo, _bob),) = await follower_parts(office)
    data = office.bot.app.db.path
    assert data is not None
    assert photo is not None
    assert (data.parent / photo).exists()
    await office.bot.say("bob", "/deleteme")
    await office.bot.say("bob", Press("erase:yes"))
    ((text, kept, actor),) = await follower_parts(office)
    assert (text, kept) == (None, None)
    assert actor != await user_id(office, "ana")
    assert not (data.parent / photo).exists()
    assert BOB_SAYS not in "\n".join(await office.staff("vesna", f"/show {REF}"))
    assert await run_sql_count(office, BOB_SAYS) == 0


async def test_retention_takes_the_followers_parts_of_ended_reports(office: Office) -> None:
    bot = office.bot
    await office.report_leak("ana")
    await _until_the_place(office, "bob")
    await bot.say("bob", Press("same:1"))
    await office.staff("vesna", f"/reject {REF} Not ours.")
    retention = find_job(bot.app.deps.registry, "privacy-retention")
    bot.clock.advance(days=30 * 25 + 62)
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, retention)
    ((text, photo, actor),) = await follower_parts(office)
    assert (text, photo) == (None, None)
    assert actor != await user_id(office, "bob")


async def run_sql_count(office: Office, needle: str) -> int:
    """How many history entries and outbox rows still hold ``needle``."""
    rows = await fetch_all(
        office.bot.app.db.conn,
        "SELECT (SELECT COUNT(*) FROM report_events WHERE instr(text, :n) > 0)"
        " + (SELECT COUNT(*) FROM outbox WHERE status != 'pending' AND instr(payload, :n) > 0)",
        {"n": needle},
    )
    return int(rows[0][0])


async def test_a_follower_without_photos_is_told_of_the_description_only(office: Office) -> None:
    await office.report_leak("ana")
    steps = [Press("photos:skip") if i == Press("photos:done") else i
             for i in leak_until_the_place(NEAR) if not isinstance(i, Picture)]  # fmt: skip
    for item in steps:
        await office.bot.say("bob", item)
    await office.bot.play("bob", [
        (Press("same:1"), [f"Your description was added to {REF} for the municipal staff."]),
    ])  # fmt: skip
    assert await follower_parts(office) == [(BOB_SAYS, None, await user_id(office, "bob"))]


async def test_a_private_report_is_no_original_for_a_duplicate(office: Office) -> None:
    """Ana's leak (water) is made private. Petar (hygiene) may not see it: naming it as the
    original of Marko's report is answered as a missing one, and nothing moves; Vesna (water)
    may see it, but its followers would read it under My reports: she is told to reject."""
    await office.report_leak()
    await office.staff("vesna", f"/private {REF}")
    for item in [*leak_until_the_place(FAR, "garbage")[:-1], FAR, Press("sum:confirm")]:
        await office.bot.say("marko", item)
    missing = REF[:-5] + "00099"
    hidden = await office.staff("petar", f"/dup {SECOND} {REF}")
    assert hidden == await office.staff("petar", f"/dup {SECOND} {missing}")
    assert hidden == [f"Please give the original report: /dup {SECOND} ORIGINAL"]
    refused = await office.staff("boss", f"/dup {SECOND} {REF}")
    assert refused == [
        f"{REF} is not public, so the residents of {SECOND} cannot follow it. Close {SECOND}"
        f" with /reject {SECOND} and a reason instead."
    ]
    conn = office.bot.app.db.conn
    second = await reports.find_by_ref(conn, SECOND)
    assert second is not None
    assert second.status == "new"
    assert await fetch_all(conn, "SELECT user_id FROM report_followers") == []

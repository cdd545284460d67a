"""A resident's walk on Viber: every main-menu entry and its buttons, to the end.

The real viberbot talks to the fake Viber API (which refuses what Viber refuses). From each
entry of the main menu the walk presses every button on every screen it reaches (a list of many
similar items: its first two), types a text where a step takes one and shares a location where
a step takes one. On each screen it also sends what a resident sends by mistake: a text where a
button is expected, a sticker, a file, a contact, a link, and a button of the screen before. Each
of these must be answered with the step's hint, and leave the resident where they were.

Every event must be answered; every message must be one that Viber accepts (the fake checks the
keyboard's size, the buttons, the text's length...); pictures (the charts) go by a URL that Viber
can fetch.

The budget's consultation and participatory budgeting are walked once an admin on Viber has opened
them (a consultation period and a /pb round of long Hungarian titles); the proposal with a cost, a
photo and a place, the staff's answer, My proposals, and the ballot to the results are played
through, the admin's messages checked as the resident's are.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.channels.text import utf16_len
from bot.channels.viber import BUTTON_PREFIX, BUTTON_TEXT_LIMIT, render
from bot.settings import Settings
from handlers.budget import imports
from handlers.budget.importer import DocumentKind, read_budget
from handlers.budget.money import millions
from handlers.budget.staff import BudgetState
from handlers.events import Button, Choices, Contact, File, Location, Reply, Text, Unsupported
from handlers.flow import Flow, unpack_button
from handlers.i18n import translator
from handlers.municipality import Municipality, StaffMember
from handlers.registry import REGISTRY
from storage import budget_consultation, users
from storage.budget_consultation import NewProposal
from tests.conftest import ROOT, jpeg
from tests.dialogs import Running, actions, viber_app
from tests.fakes.ports import FakeGeocoder
from tests.fakes.viber_api import (
    MAX_KEYBOARD_BUTTONS,
    MAX_TEXT,
    conversation_started,
    message,
    message_contact,
    message_file,
    message_location,
    message_picture,
    message_sticker,
    message_text,
)

JSONDict = dict[str, Any]
# Our ActionBody: the prefix and a button's data, which is at most Telegram's 64 bytes.
MAX_ACTION_BODY = len(BUTTON_PREFIX) + 64
SCHOOL = (42.9661, 22.1290)  # in Vlasotince
TYPED = "Ulica Nemanjina 12, kod škole"  # what a resident types where a step takes text
SAME_KIND_PER_SCREEN = 2  # of a long list of similar items (a prefix), the first ones
ENTRIES = [e.data.pack().removeprefix("menu:") for e in REGISTRY.entries]
LANGUAGES = ("sr-Latn", "hu")
_ids = itertools.count(1)


def _press(data: str) -> JSONDict:
    return message_text("", BUTTON_PREFIX + data)


# What a resident has done before an entry has something to show: My reports lists a report.
BEFORE = {
    "mine": (
        _press("menu:report"),
        _press("cat:garbage"),
        message_text("", "Kontejneri kod škole su puni"),
        _press("photos:skip"),
        message_location("", *SCHOOL),
        _press("sum:confirm"),
    ),
}
BUDGET = ROOT / "config" / "budget"
ADMIN = "walkadminZq3xK9pLmN0AAAA=="
PB_TOTAL, PB_TITLE = "30.000.000", "Részvételi költségvetés 2027: a városrészek fejlesztései"
# A /pb shortlist as a Hungarian-speaking municipality writes it: long titles (MAX_NAME is 200).
PROJECTS = (
    ("12.000.000", "A Petőfi Sándor utcai játszótér teljes felújítása új padokkal, árnyékolókkal,"
                   " ivókúttal és akadálymentes bejárattal a környék gyermekei és szülei számára"),
    ("9.500.000", "Kerékpárút és gyalogos járda építése a vasútállomástól a városi kórházig,"
                  " közvilágítással, padokkal és biztonságos gyalogátkelőhelyekkel"),
    ("6.000.000", "A helyi közösségi ház nagytermének energetikai korszerűsítése: nyílászárók"
                  " cseréje, homlokzati hőszigetelés és napelemek a tetőn"),
    ("4.000.000", "Buszváró"),
)  # fmt: skip


@dataclass
class Screen:
    """Where the resident is: the state, the buttons on screen, and how they got there."""

    path: tuple[JSONDict, ...]
    state: str
    buttons: list[str]
    before: list[str] = field(default_factory=list)  # the buttons of the screen before


@dataclass
class Walker:
    """Walks one entry as fresh residents (a new one each time the walk goes back)."""

    running: Running
    language: str
    presses: int = 0
    problems: list[str] = field(default_factory=list)
    checked_states: set[str] = field(default_factory=set)

    async def send(self, user: str, event: JSONDict, what: str) -> list[JSONDict]:
        """Post one event; check that it is answered with messages Viber accepted."""
        fake = self.running.fake
        before, calls = len(fake.sent_to(user)), len(fake.calls_of("send_message"))
        status, _ = await self.running.post(event)
        assert status == 200, what
        await self.running.app.sender.drain()
        refused = [c for c in fake.calls_of("send_message")[calls:] if not c.ok]
        assert not refused, f"{what}: Viber refused a message:\n{fake.describe_calls()}"
        new = fake.sent_to(user)[before:]
        assert new, f"{what}: no answer"
        for sent in new:
            await self.check_message(sent, what)
        # On Viber the last message's keyboard is all there is to press (few know /cancel).
        if not (new[-1].get("keyboard") or {}).get("Buttons"):
            last = str(new[-1].get("text", ""))[:80]
            self.problems.append(f"{what}: no button to press after {last!r}")
        return new

    async def check_message(self, sent: JSONDict, what: str) -> None:
        """What Viber would show: short enough texts, small keyboards, fetchable pictures."""
        assert len(sent.get("text") or "") <= MAX_TEXT, what
        buttons = (sent.get("keyboard") or {}).get("Buttons", [])
        assert len(buttons) <= MAX_KEYBOARD_BUTTONS, what
        for button in buttons:
            assert button.get("Text"), f"{what}: a button without a label"
            assert len(button["ActionBody"]) <= MAX_ACTION_BODY, f"{what}: {button}"
        if sent.get("type") == "picture":
            async with aiohttp.ClientSession() as http, http.get(sent["media"]) as response:
                assert response.status == 200, f"{what}: the picture cannot be fetched"
                assert response.content_type in ("image/png", "image/jpeg"), what

    async def command(self, text: str) -> list[JSONDict]:
        """The admin's command, answered with messages Viber accepted."""
        return await self.send(ADMIN, message_text(ADMIN, text), text)

    async def press(self, user: str, data: str) -> list[JSONDict]:
        """Press a button on the user's screen (it must be there)."""
        assert BUTTON_PREFIX + data in self.shown(user), f"{data} is not on {self.shown(user)}"
        return await self.send(user, message_text(user, BUTTON_PREFIX + data), data)

    def labels(self, user: str) -> list[str]:
        """The texts of the buttons on the user's screen."""
        return [b["Text"] for b in (self.running.fake.keyboard_of(user) or {}).get("Buttons", [])]

    def of_kind(self, user: str, prefix: str) -> list[str]:
        """The data of the buttons on screen with this prefix (``pbt``...)."""
        shown = [b.removeprefix(BUTTON_PREFIX) for b in self.shown(user)]
        return [b for b in shown if b.startswith(prefix + ":")]

    def shown(self, user: str) -> list[str]:
        """The ActionBody of the buttons on the user's screen (the last message's keyboard)."""
        sent = self.running.fake.sent_to(user)
        return actions(sent[-1].get("keyboard")) if sent else []

    async def state(self, user: str) -> str:
        found = await users.load_conversation(self.running.app.db.conn, "viber", user)
        assert found is not None
        return found.state

    async def at_menu(self, user: str | None = None) -> tuple[str, list[str]]:
        """A new resident (or ``user``) who chose the language and is at the main menu."""
        user = user or f"walk{next(_ids):06d}Zq3xK9pLmN0==="
        status, body = await self.running.post(conversation_started(user))
        assert status == 200
        welcome = json.loads(body)
        self.running.fake._check_message(welcome)  # the answer to the callback, as Viber checks
        assert BUTTON_PREFIX + f"lang:{self.language}" in actions(welcome["keyboard"])
        await self.send(user, message_text(user, BUTTON_PREFIX + f"lang:{self.language}"), "lang")
        await self.send(user, message_text(user, BUTTON_PREFIX + "menu:main"), "not now")
        return user, self.shown(user)

    async def replay(self, path: tuple[JSONDict, ...]) -> str:
        """A new resident who did ``path`` from the main menu."""
        user, _ = await self.at_menu()
        for step in path:
            await self.send(user, _as(user, step), f"replay {step}")
        return user

    def hint(self, state: str) -> tuple[str, str]:
        """The text of the hint in ``state`` and the state the hint leaves the resident in."""
        flow = REGISTRY.flow_of(state)
        hint = flow.hints.get(flow.states(state)) if flow and flow.states else None
        if hint is None:  # the engine's one fallback: the main menu's hint
            return self.hint(REGISTRY.home)[0], REGISTRY.home
        return translator(self.language).gettext(hint), state

    async def check_strays(self, user: str, screen: Screen) -> None:
        """What a resident sends by mistake is answered with the hint, and moves nothing."""
        flow = REGISTRY.flow_of(screen.state)
        strays: list[tuple[type | None, JSONDict]] = [
            (Text, message_text(user, "Dobar dan, imam pitanje")),
            (Text, message(user, {"type": "url", "media": "https://www.vlasotince.rs/"})),
            (Unsupported, message_sticker(user)),
            (File, message_file(user, self.running.fake.add_media(b"%PDF-1.4"), "zahtev.pdf")),
            (Contact, message_contact(user, "+381641234567")),
        ]
        stale = [b for b in screen.before if b not in screen.buttons and _stays(b, screen.state)]
        if stale:
            strays.append((None, message_text(user, stale[0])))
        for kind, event in strays:
            if kind is not None and _takes(flow, screen.state, kind):
                continue
            what = f"{screen.state}: {event['message'].get('type')} {event['message']}"
            replies = await self.send(user, event, what)
            hint, then = self.hint(screen.state)
            first = str(replies[0].get("text", ""))
            if first != hint:
                self.problems.append(f"{what}: answered {first[:120]!r}, not the hint {hint!r}")
            now = await self.state(user)
            if now != then:
                self.problems.append(f"{what}: moved the resident to {now}")

    async def walk(self, entry: str, done: tuple[JSONDict, ...] | None = None) -> None:
        """Every button reachable from ``entry`` (after ``done``, by default ``BEFORE``'s), each
        screen's strays once per state."""
        first = message_text("", BUTTON_PREFIX + f"menu:{entry}")
        done = BEFORE.get(entry, ()) if done is None else done
        todo: list[tuple[tuple[JSONDict, ...], list[str]]] = [((*done, first), [])]
        seen: set[tuple[str, str]] = set()
        while todo:
            path, before = todo.pop()
            user = await self.replay(path[:-1])
            await self.send(user, _as(user, path[-1]), f"{entry} {path[-1]['message']}")
            self.presses += 1
            screen = Screen(path, await self.state(user), self.shown(user), before)
            if screen.state not in self.checked_states:
                self.checked_states.add(screen.state)
                await self.check_strays(user, screen)
            for step in self.next_steps(screen, seen):
                todo.append(((*path, step), screen.buttons))

    def next_steps(self, screen: Screen, seen: set[tuple[str, str]]) -> list[JSONDict]:
        """The buttons on the screen not pressed yet in this state; text and a location."""
        steps, per_kind = [], dict[str, int]()
        flow = REGISTRY.flow_of(screen.state)
        for body in screen.buttons:
            prefix, *fields = body.removeprefix(BUTTON_PREFIX).split(":")
            if body == BUTTON_PREFIX + "location" or prefix in ("menu", "lang"):
                continue  # the main menu and the languages are walked on their own
            # Items of a list (a report, a measure, a program) carry a number.
            kind = ":".join([prefix, *(f for f in fields if not f.isdigit())])
            per_kind[kind] = per_kind.get(kind, 0) + 1
            if per_kind[kind] > SAME_KIND_PER_SCREEN or (screen.state, body) in seen:
                continue
            seen.add((screen.state, body))
            steps.append(message_text("", body))
        for event_kind, event in (
            (Text, message_text("", TYPED)),
            (Location, message_location("", *SCHOOL)),
        ):
            name = event_kind.__name__
            if _steps(flow, screen.state, event_kind) and (screen.state, name) not in seen:
                seen.add((screen.state, name))
                steps.append(event)
        return steps


def _as(user: str, event: JSONDict) -> JSONDict:
    """The event sent by ``user`` (a fresh token each time)."""
    template = event["message"]
    return message(user, template)


def _steps(flow: Flow | None, state: str, kind: type) -> bool:
    """Whether the state's table has a step for this kind of event."""
    if flow is None or flow.states is None:
        return False
    here = flow.states(state)
    return (here, kind) in flow.steps or (here, kind) in flow.look_ups


def _takes(flow: Flow | None, state: str, kind: type) -> bool:
    """Whether the state's table takes this kind of event, or it starts a flow here."""
    if _steps(flow, state, kind):
        return True
    here = flow.states(state) if flow and flow.states else None
    return here not in (flow.keeps if flow else ()) and REGISTRY.start(kind) is not None


def _stays(body: str, state: str) -> bool:
    """Whether a stale button must get the hint in ``state``: it is neither a button that works
    from anywhere nor one the state's table takes."""
    data = unpack_button(body.removeprefix(BUTTON_PREFIX))
    if data is None:
        return True
    flow = REGISTRY.flow_of(state)
    return REGISTRY.anywhere(type(data)) is None and not _takes(flow, state, type(data))


@pytest.fixture(params=LANGUAGES)
async def walker(
    request: pytest.FixtureRequest,
    settings: Settings,
    municipality: Municipality,
    geocoder: FakeGeocoder,
) -> AsyncIterator[Walker]:
    # Vlasotince has every feature; Hungarian is offered as in Sombor.
    offered = dataclasses.replace(municipality, languages=(*municipality.languages, "hu"))
    async with viber_app(settings, offered, geocoder) as running:
        await import_budget(running)
        yield Walker(running, request.param)


@asynccontextmanager
async def staffed_walker(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder, language: str
) -> AsyncIterator[Walker]:
    """As ``walker``, with an admin on Viber (who will open the consultation and a /pb round)."""
    admin = StaffMember("viber", ADMIN, "Šef", "admin", ())
    offered = dataclasses.replace(
        municipality, languages=(*municipality.languages, "hu"), staff=(admin,)
    )
    async with viber_app(settings, offered, geocoder) as running:
        await import_budget(running)
        walker = Walker(running, language)
        await walker.at_menu(ADMIN)
        yield walker


@pytest.fixture(params=LANGUAGES)
async def staffed(
    request: pytest.FixtureRequest,
    settings: Settings,
    municipality: Municipality,
    geocoder: FakeGeocoder,
) -> AsyncIterator[Walker]:
    async with staffed_walker(settings, municipality, geocoder, request.param) as walker:
        yield walker


async def open_budget(walker: Walker) -> None:
    """The admin opens a consultation on next year's budget and a /pb round with a shortlist."""
    today = datetime.now(UTC).date()
    to = today + timedelta(days=20)
    await walker.command(f"/budget consult {today.year + 1} {today:%d.%m.%Y} {to:%d.%m.%Y}")
    await walker.command(f"/pb new {PB_TOTAL} {PB_TITLE}")
    for cost, name in PROJECTS:
        await walker.command(f"/pb add {cost} {name}")
    await walker.command("/pb open")


async def import_budget(running: Running) -> None:
    """The adopted budget and its execution in June, as the finance office imports them."""
    for name, kind, as_of in (
        ("vlasotince-2026-adopted-EXAMPLE.csv", DocumentKind.ADOPTED, date(2025, 12, 20)),
        ("vlasotince-2026-execution-06-30-EXAMPLE.csv", DocumentKind.EXECUTION, date(2026, 6, 30)),
    ):
        lines = read_budget(name, (BUDGET / name).read_bytes(), kind)
        document = imports.Document(2026, kind, as_of, name)
        async with running.app.db.transaction() as conn:
            await imports.store(conn, document, lines, imported_by=None, now=datetime.now(UTC))


@pytest.mark.parametrize("entry", ENTRIES)
async def test_a_resident_walks_every_button_of_an_entry_on_viber(
    walker: Walker, entry: str
) -> None:
    await walker.walk(entry)
    assert walker.presses >= 1
    assert not walker.problems, "\n".join(walker.problems)


async def test_the_main_menu_fits_a_viber_keyboard(walker: Walker) -> None:
    user, shown = await walker.at_menu()
    assert [b.removeprefix(BUTTON_PREFIX + "menu:") for b in shown] == ENTRIES
    await walker.check_strays(user, Screen((), await walker.state(user), shown))
    assert not walker.problems, "\n".join(walker.problems)


async def test_a_resident_who_follows_several_authors_can_see_and_drop_each_on_viber(
    walker: Walker,
) -> None:
    # Thirteen subjects, six languages, the modes and the way back: an author more per button
    # went over Viber's 24 buttons at the second author, and Viber refused the whole screen.
    user, _ = await walker.at_menu()
    await walker.send(user, _as(user, _press("menu:library")), "library")
    await walker.send(user, _as(user, _press("lib:follow")), "follows")
    for name in ("Ivo Andrić", "Danilo Kiš", "Kosztolányi Dezső"):
        await walker.send(user, _as(user, _press("lib:author")), "an author")
        await walker.send(user, message_text(user, name), name)
    shown = walker.shown(user)
    if BUTTON_PREFIX + "lib:authors" in shown:
        await walker.send(user, _as(user, _press("lib:authors")), "the authors")
        shown = walker.shown(user)
    labels = [b["Text"] for b in (walker.running.fake.keyboard_of(user) or {})["Buttons"]]
    assert [b for b in shown if b.startswith(BUTTON_PREFIX + "libu:")] != []
    assert {"✅ Ivo Andrić", "✅ Danilo Kiš", "✅ Kosztolányi Dezső"} <= set(labels)
    first = next(b for b in shown if b.startswith(BUTTON_PREFIX + "libu:"))
    await walker.send(user, message_text(user, first), "stop following")
    labels = [b["Text"] for b in (walker.running.fake.keyboard_of(user) or {})["Buttons"]]
    assert "✅ Ivo Andrić" not in labels
    assert {"✅ Danilo Kiš", "✅ Kosztolányi Dezső"} <= set(labels)


async def test_a_consultation_with_a_long_title_is_listed_on_viber(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    # An admin's /consult new takes a title of up to 2,000 characters; the list put it on a
    # button, and Viber refuses a button's text over 250 characters with the whole message.
    title = "Javna rasprava o nacrtu odluke o " + "komunalnom redu i uređenju naselja, " * 9
    first = dataclasses.replace(municipality.consultations[0], title=title)
    long_titled = dataclasses.replace(municipality, consultations=(first,))
    async with viber_app(settings, long_titled, geocoder) as running:
        walker = Walker(running, "sr-Latn")
        user, _ = await walker.at_menu()
        await walker.send(user, _as(user, _press("menu:consult")), "the consultations")
        labels = [b["Text"] for b in (running.fake.keyboard_of(user) or {})["Buttons"]]
        (shown,) = [label for label in labels if label.startswith("Javna rasprava o nacrtu")]
        assert re.fullmatch(r"Javna rasprava o nacrtu .{20,60}… \(17\. dec\)", shown), shown


def test_a_button_text_over_vibers_limit_is_cut_at_a_space() -> None:
    # Whatever a feature puts on a button, Viber is sent a text it takes (the full text it
    # refuses with the whole message); Telegram shows long labels as they are.
    label = "Stručna praksa za mlade bez radnog iskustva, " * 8
    reply = Reply("Izaberite:", Choices(((Button(label, "pms:17"),),)))
    (sent,) = render(reply, lambda path: path)
    (button,) = sent.keyboard["Buttons"]
    assert utf16_len(button["Text"]) <= BUTTON_TEXT_LIMIT
    shown = button["Text"].removesuffix("…")
    assert button["Text"].endswith("…")
    assert label.startswith(shown)
    assert label[len(shown)] == " "  # cut between words


async def test_a_plan_of_many_commitments_and_activities_is_shown_a_screen_at_a_time_on_viber(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    # A button per commitment (and per activity) went over Viber's 24 buttons: from the 24th
    # commitment (the menu's button is one more), from an activity's 19th; Viber refused the
    # whole screen.
    plans = municipality.plan
    root = next(x for x in plans.measures if x.plan == plans.default and x.parent_key is None)
    roots = [
        dataclasses.replace(root, key=str(n), title=f"Obaveza {n}", progress=0)
        for n in range(1, 26)
    ]
    activities = [
        dataclasses.replace(
            root, key=f"1.{n}", parent_key="1", title=f"Aktivnost 1.{n}", progress=0
        )
        for n in range(1, 21)
    ]
    one = dataclasses.replace(plans, plans=plans.plans[:1], measures=(*roots, *activities))
    async with viber_app(
        settings, dataclasses.replace(municipality, plan=one), geocoder
    ) as running:
        walker = Walker(running, "sr-Latn")
        user, _ = await walker.at_menu()

        def labels() -> list[str]:
            return [b["Text"] for b in (running.fake.keyboard_of(user) or {})["Buttons"]]

        await walker.send(user, _as(user, _press("menu:plan")), "the plan")
        assert len([label for label in labels() if "Obaveza" in label]) == 15
        more = next(b for b in walker.shown(user) if b.startswith(BUTTON_PREFIX + "pplm:"))
        await walker.send(user, message_text(user, more), "more commitments")
        assert [label for label in labels() if "Obaveza" in label] == [
            f"{n}. Obaveza {n} (0%)" for n in range(16, 26)
        ]
        assert not [b for b in walker.shown(user) if b.startswith(BUTTON_PREFIX + "pplm:")]

        await walker.send(user, _as(user, _press("menu:plan")), "the plan again")
        await walker.send(user, message_text(user, walker.shown(user)[0]), "commitment 1")
        assert len([label for label in labels() if "Aktivnost" in label]) == 15
        more = next(b for b in walker.shown(user) if b.startswith(BUTTON_PREFIX + "pmsm:"))
        await walker.send(user, message_text(user, more), "more activities")
        assert [label for label in labels() if "Aktivnost" in label] == [
            f"1.{n}. Aktivnost 1.{n} (0%)" for n in range(16, 21)
        ]


# The budget's consultation and participatory budgeting, which an admin opens first.


def proposal(consultation: str, program: str = "0701", cost: str | None = None) -> list[JSONDict]:
    """A resident's proposal from the overview's button: the area, the text, the cost, Send."""
    return [
        _press(consultation),
        _press(f"bpp:{program}"),
        message_text("", TYPED),
        message_text("", cost) if cost else _press("bpn:skip"),
        _press("bpn:send"),
    ]


async def overview_buttons(walker: Walker) -> list[str]:
    """The buttons of the budget's overview, as a new resident sees it."""
    user, _ = await walker.at_menu()
    await walker.send(user, _as(user, _press("menu:budget")), "the budget")
    return [b.removeprefix(BUTTON_PREFIX) for b in walker.shown(user)]


async def test_a_resident_walks_the_budget_consultation_and_the_vote_on_viber(
    staffed: Walker,
) -> None:
    await open_budget(staffed)
    shown = await overview_buttons(staffed)
    (consultation,) = [b for b in shown if b.startswith("bpr:")]
    assert [b for b in shown if b.startswith("pbb:")] != []
    # Having proposed once, the overview also has My proposals.
    await staffed.walk("budget", (_press("menu:budget"), *proposal(consultation)))
    assert staffed.presses >= 10
    proposing = {BudgetState.PROGRAM, BudgetState.WHAT, BudgetState.COST, BudgetState.EXTRA}
    assert proposing <= staffed.checked_states
    assert not staffed.problems, "\n".join(staffed.problems)


# What a resident writes in Hungarian as a proposal: long, as proposals are (the card shows all).
LONG_PROPOSAL = (
    "A Nemanjina utcában, az iskolától a hídig, járdát kellene építeni, mert a gyerekek most az"
    " úttesten járnak iskolába, és esténként nincs közvilágítás sem. "
) * 8


async def test_a_resident_proposes_with_a_cost_a_photo_and_a_place_on_viber(
    staffed: Walker,
) -> None:
    await open_budget(staffed)
    t = translator(staffed.language)
    user, _ = await staffed.at_menu()
    await staffed.press(user, "menu:budget")
    (consultation,) = staffed.of_kind(user, "bpr")
    await staffed.press(user, consultation)
    assert len(staffed.of_kind(user, "bpp")) == 17
    await staffed.press(user, "bpp:1102")
    await staffed.send(user, message_text(user, LONG_PROPOSAL), "what")
    await staffed.send(user, message_text(user, "1.500.000"), "the cost")
    assert await staffed.state(user) == BudgetState.EXTRA
    photo = message_picture(user, staffed.running.fake.add_media(jpeg()))
    assert (await staffed.send(user, photo, "a photo"))[0]["text"] == t.gettext("Photo added.")
    place = message_location(user, *SCHOOL)
    assert (await staffed.send(user, place, "the place"))[0]["text"] == t.gettext("Location added.")
    before = len(staffed.running.fake.sent_to(ADMIN))
    await staffed.press(user, "bpn:send")
    card = staffed.running.fake.sent_to(ADMIN)[before:]
    assert [m["type"] for m in card] == ["picture", "text"]
    assert LONG_PROPOSAL.strip() in card[-1]["text"]
    (taken, *_others) = [b for b in actions(card[-1]["keyboard"]) if b.endswith(":taken")]
    await staffed.send(ADMIN, message_text(ADMIN, taken), "the verdict")
    await staffed.command("Bekerült a 2027-es tervezetbe, a tavaszi munkákkal együtt.")
    told = staffed.running.fake.texts_to(user)[-1]
    assert "Bekerült a 2027-es tervezetbe" in told
    # The notice has no keyboard (Viber then shows none): the resident writes, gets the menu.
    await staffed.send(user, message_text(user, "Köszönöm"), "a word")
    await staffed.press(user, "menu:budget")
    await staffed.press(user, "bpm")
    mine = staffed.running.fake.texts_to(user)[-2]
    assert LONG_PROPOSAL.strip()[:200] in mine
    assert "Bekerült a 2027-es tervezetbe" in mine


async def test_an_admin_on_viber_answers_waiting_proposals_from_one_list(staffed: Walker) -> None:
    """On Viber only the last message's keyboard can be pressed: /budget proposals is one
    message with a button per proposal and Next for more, each opening its card's answers."""
    await open_budget(staffed)
    running = staffed.running
    user, _ = await staffed.at_menu()
    found = await users.load_conversation(running.app.db.conn, "viber", user)
    period = await budget_consultation.unclosed(running.app.db.conn)
    assert found is not None
    assert period is not None
    async with running.app.db.transaction() as tx:
        for n in range(1, 11):
            text = LONG_PROPOSAL if n % 2 else f"Buszváró a {n}. megállóban"
            new = NewProposal("0701", text, None, None, None, None)
            await budget_consultation.add_proposal(
                tx, period.id, found.user.id, new, period.starts_at
            )
    await staffed.command("/budget proposals")
    assert staffed.of_kind(ADMIN, "bpo") == [f"bpo:{n}:0:0" for n in range(1, 9)]
    assert staffed.of_kind(ADMIN, "bpl") == ["bpl:0:8"]
    await staffed.press(ADMIN, "bpo:1:0:0")
    assert staffed.of_kind(ADMIN, "bpv") == ["bpv:1:taken", "bpv:1:partly", "bpv:1:not"]
    await staffed.press(ADMIN, "bpv:1:partly")
    await staffed.command("Részben bekerült a tervezetbe.")
    assert "Részben bekerült a tervezetbe." in running.fake.texts_to(user)[-1]
    await staffed.command("/budget proposals")
    assert staffed.of_kind(ADMIN, "bpo") == [f"bpo:{n}:0:0" for n in range(2, 10)]
    await staffed.press(ADMIN, "bpl:0:8")
    assert staffed.of_kind(ADMIN, "bpo") == ["bpo:10:0:8"]
    assert staffed.of_kind(ADMIN, "bpl") == ["bpl:0:0"]  # Previous
    await staffed.press(ADMIN, "bpo:10:0:8")
    await staffed.press(ADMIN, "bpv:10:not")
    await staffed.command("Nem fér bele az idei keretbe.")
    assert "Nem fér bele az idei keretbe." in running.fake.texts_to(user)[-1]


ON, OFF = "On your ballot: {name}.", "Taken off your ballot: {name}."


async def vote(walker: Walker, user: str, project: str, note: str, name: str) -> None:
    """Press a project's button on the ballot; the reply starts with ``note`` about ``name``."""
    await walker.press(user, project)
    told = translator(walker.language).gettext(note, name=name)
    assert walker.running.fake.texts_to(user)[-1].startswith(told + "\n")


async def test_a_resident_votes_within_the_total_changes_the_ballot_and_sees_the_results_on_viber(
    staffed: Walker,
) -> None:
    await open_budget(staffed)
    t = translator(staffed.language)
    user, _ = await staffed.at_menu()
    await staffed.press(user, "menu:budget")
    (ballot,) = staffed.of_kind(user, "pbb")
    await staffed.press(user, ballot)
    playground, cycle_path, hall, shelter = staffed.of_kind(user, "pbt")
    for project, (_cost, name) in zip((playground, cycle_path, hall), PROJECTS, strict=False):
        await vote(staffed, user, project, ON, name)
    # 27.5 of 30 million is chosen: the shelter's 4 million does not fit.
    await staffed.press(user, shelter)
    too_dear = t.gettext(
        "{name} costs {cost}, and {left} of the total is left; take another project off first.",
        name=PROJECTS[3][1], cost=millions(t, 400_000_000), left=millions(t, 250_000_000),
    )  # fmt: skip
    assert staffed.running.fake.texts_to(user)[-1].startswith(too_dear + "\n")
    assert await staffed.state(user) == REGISTRY.home
    await vote(staffed, user, hall, OFF, PROJECTS[2][1])
    await vote(staffed, user, shelter, ON, PROJECTS[3][1])
    marks = [label[0] for label in staffed.labels(user)[:4]]
    assert marks == ["✅", "✅", "⬜", "✅"]
    await staffed.command("/pb close")
    results = staffed.running.fake.texts_to(user)[-1]
    assert results.startswith(t.gettext("🗳 The results of {title}:", title=PB_TITLE))
    assert all(name in results for _cost, name in PROJECTS)
    # The ballot's buttons, pressed after the close: nothing changes, and Viber takes the answer.
    for stale in (playground, hall, ballot):
        await staffed.send(user, message_text(user, BUTTON_PREFIX + stale), f"stale {stale}")
        assert staffed.running.fake.texts_to(user)[-1] == t.gettext(
            "Voting on these projects is not open."
        )
        assert await staffed.state(user) == REGISTRY.home
    assert not [b for b in await overview_buttons(staffed) if b.startswith("pbb:")]


async def test_a_ballot_of_up_to_two_projects_on_viber(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    assert municipality.budget is not None
    two = dataclasses.replace(municipality.budget, max_projects=2)
    ruled = dataclasses.replace(municipality, budget=two)
    async with staffed_walker(settings, ruled, geocoder, "hu") as walker:
        await open_budget(walker)
        t = translator("hu")
        user, _ = await walker.at_menu()
        await walker.press(user, "menu:budget")
        await walker.press(user, walker.of_kind(user, "pbb")[0])
        playground, cycle_path, hall, _shelter = walker.of_kind(user, "pbt")
        await vote(walker, user, playground, ON, PROJECTS[0][1])
        await vote(walker, user, cycle_path, ON, PROJECTS[1][1])
        most = t.ngettext(
            "A ballot holds at most {n} project; take one off before you choose {name}.",
            "A ballot holds at most {n} projects; take one off before you choose {name}.",
            2, name=PROJECTS[2][1],
        )  # fmt: skip
        await walker.press(user, hall)
        assert walker.running.fake.texts_to(user)[-1].startswith(most + "\n")
        await vote(walker, user, playground, OFF, PROJECTS[0][1])
        await vote(walker, user, hall, ON, PROJECTS[2][1])
        assert [label[0] for label in walker.labels(user)[:4]] == ["⬜", "✅", "✅", "⬜"]


# The staff's side: an operator on Viber, in the private chat with the bot.

OPERATOR = "walkoperZq3xK9pLmN0AAAA=="


async def test_an_operator_on_viber_works_a_report_from_its_card(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    # The card is not edited in place in a private chat, and on Viber a message without buttons
    # hides the card's: after one action the operator had no button left for the next one.
    operator = StaffMember("viber", OPERATOR, "Vesna", "operator", ("hygiene",))
    staffed = dataclasses.replace(municipality, staff=(operator,))
    async with viber_app(settings, staffed, geocoder) as running:
        walker = Walker(running, "sr-Latn")
        await walker.at_menu(OPERATOR)
        user, _ = await walker.at_menu()
        for step in BEFORE["mine"]:
            await walker.send(user, _as(user, step), f"the report: {step['message']}")
        (ref,) = re.findall(r"VLA-\d{4}-\d{5}", running.fake.texts_to(user)[-1])
        (inbox,) = await walker.send(OPERATOR, message_text(OPERATOR, "/inbox"), "/inbox")
        assert ref in inbox["text"]
        await walker.send(OPERATOR, message_text(OPERATOR, f"/show {ref}"), "/show")
        for action in ("ack", "progress"):
            (card_action,) = walker.of_kind(OPERATOR, f"st:{action}")
            await walker.press(OPERATOR, card_action)
            status = running.fake.texts_to(user)[-1]
            assert ref in status, status
        await walker.press(OPERATOR, walker.of_kind(OPERATOR, "st:reply")[0])
        answer = "Kontejneri će biti ispražnjeni sutra ujutru."
        await walker.send(OPERATOR, message_text(OPERATOR, answer), "the answer")
        assert answer in running.fake.texts_to(user)[-1]
        await walker.press(OPERATOR, walker.of_kind(OPERATOR, "st:reject")[0])
        await walker.press(OPERATOR, walker.of_kind(OPERATOR, "rj")[0])
        assert ref in running.fake.texts_to(user)[-1]
        assert walker.of_kind(OPERATOR, "st:ack") == []  # nothing offered the status forbids

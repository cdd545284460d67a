"""Every allowed and every refused status change, and the card's buttons that follow from them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from handlers.flow import TELEGRAM_DATA_LIMIT, ButtonData, unpack_button
from handlers.i18n import translator
from handlers.lifecycle import CARD_ACTIONS, TRANSITIONS, allowed, card_actions
from handlers.registry import REGISTRY
from handlers.staff.card import CardAction, card_buttons
from storage.reports import Report
from storage.status import AWAITING_ACKNOWLEDGEMENT, ENDED, OPEN, Status
from tests.conftest import REF, Office, Press

NOW = datetime(2026, 12, 1, tzinfo=UTC)
PAIRS = list(itertools.product(Status, Status))
NEXT = {old: set(new) for old, new in TRANSITIONS.items()}


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_each_change_is_allowed_exactly_when_the_table_says(old: Status, new: Status) -> None:
    assert allowed(old, new) == (new in NEXT[old])


def test_the_named_sets_cover_the_lifecycle() -> None:
    assert set(OPEN) | set(ENDED) | {Status.RESOLVED} == set(Status)
    assert set(AWAITING_ACKNOWLEDGEMENT) <= set(OPEN)
    assert not set(OPEN) & set(ENDED)


@pytest.mark.parametrize("status", list(Status))
def test_the_card_offers_what_the_lifecycle_allows(status: Status) -> None:
    shown = card_actions(status)
    assert shown == [a for a, target in CARD_ACTIONS.items() if target in NEXT[status]]
    report = Report(
        id=7, ref=REF, user_id=1, category="garbage", service="hygiene", description="x",
        latitude=None, longitude=None, address=None, status=status,
        created_at=NOW, sla_due_at=NOW, photo_paths=(), events=(),
    )  # fmt: skip
    data = [b.data for row in card_buttons(translator("en"), report) for b in row]
    assert data == [*(f"st:{a}:7" for a in shown), "st:reply:7"]


@pytest.mark.parametrize(
    ("status", "press", "said"),
    [
        ("new", "ack", f"{REF} is now acknowledged."),
        ("reopened", "progress", f"{REF} is now in progress."),
        ("acknowledged", "ack", f"{REF} is acknowledged; it cannot become acknowledged."),
        ("in_progress", "progress", f"{REF} is in progress; it cannot become in progress."),
        ("closed", "resolve", f"{REF} is closed; it cannot become resolved."),
    ],
)
async def test_a_press_walks_or_refuses_the_transition(
    office: Office, status: str, press: str, said: str
) -> None:
    await office.report_leak()
    async with office.bot.app.db.transaction() as conn:
        await conn.execute("UPDATE reports SET status = ? WHERE id = 1", (status,))
    replies = await office.bot.say("vesna", Press(CardAction(press, 1).pack()))
    assert [r.text for r in replies] == [said]


def test_every_button_kind_round_trips_and_fits_telegram() -> None:
    kinds = {kind.prefix: kind for kind in ButtonData._types.values()}
    assert len(kinds) == len(ButtonData._types)
    assert REGISTRY.flows  # the registry imported every feature's buttons
    sample = CardAction("progress", 10**17)
    assert unpack_button(sample.pack()) == sample
    assert len(sample.pack().encode()) <= TELEGRAM_DATA_LIMIT
    with pytest.raises(ValueError, match="64 bytes"):
        CardAction("x" * 70, 1).pack()
    with pytest.raises(ValueError, match="64 bytes"):  # 35 characters, 65 bytes
        CardAction("ш" * 30, 1).pack()
    assert len(CardAction("ш" * 29, 1).pack().encode()) == TELEGRAM_DATA_LIMIT - 1
    for malformed in ("st", "st:ack", "st:ack:x", "st:ack:-1", "st:ack:1:2", "zz:1", ""):
        assert unpack_button(malformed) is None, malformed

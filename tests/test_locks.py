"""A user's events run one at a time, and the locks of users nobody waits for are gone."""

from __future__ import annotations

import asyncio

import pytest

from bot.locks import KeyedLocks


async def test_one_key_at_a_time_and_nothing_left_after() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with locks.hold("ana"):
            order.append("first in")
            first_in.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with locks.hold("ana"):
            order.append("second in")

    async def other() -> None:
        await first_in.wait()
        async with locks.hold("boris"):  # another user does not wait for ana's event
            order.append("other in")
        release.set()

    await asyncio.gather(first(), second(), other())
    assert order == ["first in", "other in", "first out", "second in"]
    assert len(locks) == 0


async def test_a_waiter_cancelled_leaves_no_lock_behind() -> None:
    locks = KeyedLocks()
    held = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("ana"):
            held.set()
            await release.wait()

    async def waiter() -> None:
        async with locks.hold("ana"):
            raise AssertionError("never entered: cancelled while waiting")

    holding = asyncio.create_task(holder())
    await held.wait()
    waiting = asyncio.create_task(waiter())
    # Until the waiter waits for the lock (nothing tells of its arrival but the count).
    while locks._locks["ana"][1] < 2:  # noqa: ASYNC110
        await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    release.set()
    await holding
    assert len(locks) == 0


async def test_an_error_inside_releases_the_lock() -> None:
    locks = KeyedLocks()
    with pytest.raises(ValueError, match="a handler failed"):
        async with locks.hold("ana"):
            raise ValueError("a handler failed")
    assert len(locks) == 0
    async with locks.hold("ana"):  # not left locked
        pass

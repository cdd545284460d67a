"""A cancellation that arrives as a timed wait finishes is not swallowed.

On Python 3.11 ``asyncio.wait_for`` returns the awaited result when the cancellation lands just
after the result did, and the cancelled task goes on as if nothing had asked it to stop (the
outbox sender did so at shutdown). Each waiting place below is cancelled at several turns of the
event loop after the awaited work ends: the task must end cancelled at every one of them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot import check, runtime
from bot.channels.viber import ViberAccount, ViberChannel
from tests.conftest import Bot

TURNS = range(5)
Run = tuple[Callable[[], Awaitable[Any]], Callable[[], None]]


async def cancelled_as_it_finishes(run: Callable[[], Run], turns: int) -> None:
    """Start a task (``run()`` gives how, and what ends its wait), end its wait and cancel it
    ``turns`` loop turns later: if it had not ended by then, it must end cancelled."""
    start, finish = run()
    task: asyncio.Task[Any] = asyncio.ensure_future(start())
    for _ in range(3):
        await asyncio.sleep(0)  # into its wait
    finish()
    for _ in range(turns):
        await asyncio.sleep(0)
    asked = task.cancel()  # False: it had ended already, with its result
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done == {task}, "the task went on after it was cancelled"
    assert task.cancelled() or not asked, f"cancelled {turns} turns after, it returned instead"
    assert asked or turns > 0  # cancelled before it can have run on, it never ends otherwise


@pytest.mark.parametrize("turns", TURNS)
async def test_a_viber_call_cancelled_as_its_thread_ends_is_cancelled(
    tmp_path: Path, turns: int
) -> None:
    channel = ViberChannel(ViberAccount("token", "http://127.0.0.1:9/viber"), tmp_path)

    def run() -> Run:
        release, ended = threading.Event(), threading.Event()

        def blocking_call() -> str:
            release.wait(5)
            ended.set()
            return "sent"

        def finish() -> None:
            release.set()
            ended.wait(5)
            time.sleep(0.01)  # the thread has handed its result to the loop

        return lambda: channel.call(blocking_call), finish

    await cancelled_as_it_finishes(run, turns)


@pytest.mark.parametrize("turns", TURNS)
async def test_a_viber_welcome_cancelled_as_it_arrives_is_cancelled(
    tmp_path: Path, turns: int
) -> None:
    channel = ViberChannel(ViberAccount("token", "http://127.0.0.1:9/viber"), tmp_path)

    def run() -> Run:
        slot = channel.hold_welcome("chat")
        return lambda: channel.take_welcome("chat", slot), lambda: slot.set_result({"text": "hi"})

    await cancelled_as_it_finishes(run, turns)


@pytest.mark.parametrize("turns", TURNS)
async def test_a_check_cancelled_as_it_answers_is_cancelled(turns: int) -> None:
    def run() -> Run:
        answered = asyncio.Event()

        async def probe() -> check.Finding:
            await answered.wait()
            return check.Finding("Telegram", "ok", "answers")

        return lambda: check._guarded("Telegram", probe()), answered.set

    await cancelled_as_it_finishes(run, turns)


class Runner:
    """The web server's runner as ``shutdown`` sees it: already stopped."""

    async def cleanup(self) -> None:
        """Nothing to stop."""


@pytest.mark.parametrize("turns", TURNS)
async def test_a_shutdown_cancelled_as_its_drain_ends_is_cancelled(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, turns: int
) -> None:
    drained = asyncio.Event()

    async def drain() -> None:
        await drained.wait()

    monkeypatch.setattr(bot.app.sender, "drain", drain)

    def run() -> Run:
        return lambda: runtime.shutdown(bot.app, [], Runner()), drained.set  # type: ignore[arg-type]

    await cancelled_as_it_finishes(run, turns)

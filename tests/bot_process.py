"""The real bot process (``python -m bot run``) in tests: waiting for it to start."""

from __future__ import annotations

import asyncio

from tests.fakes.telegram_api import FakeTelegramApi

# Under a test's own timeout (120 s): a bot that hangs while starting still fails that test.
STARTUP_S = 90


async def polling_started(fake: FakeTelegramApi, process: asyncio.subprocess.Process) -> None:
    """Wait until the bot asks for updates; fail at once, with its log, if it exits first.

    Its start is mostly imports (about 1.5 s of CPU): on a loaded machine that is 20 s and
    more, so the process itself tells when to stop waiting, not a guess of how long it takes.
    """
    polling = asyncio.ensure_future(fake.wait_for_calls("getUpdates", timeout=STARTUP_S))
    exited = asyncio.ensure_future(process.wait())
    await asyncio.wait({polling, exited}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        polling.cancel()
        log = process.stderr or process.stdout
        output = (await log.read()).decode() if log else ""
        raise AssertionError(f"the bot exited ({process.returncode}) before polling:\n{output}")
    exited.cancel()
    polling.result()

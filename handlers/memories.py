"""What the process keeps in memory of residents' words, and forgets when someone is erased.

Replies are encoded and decoded once for the same reply (bot/dispatcher.py, bot/outbox.py): a
menu or a question that everyone gets costs nothing the second time. Those caches also hold,
until they are pushed out, replies that quote a resident (a report's summary, a staff notice).
When a resident's data is erased, or retention anonymises reports, every such cache is emptied,
so that nothing of theirs outlives the erasure in the running process either.
"""

from __future__ import annotations

from collections.abc import Callable

_FORGETTERS: list[Callable[[], None]] = []


def forget_on_erasure(clear: Callable[[], None]) -> None:
    """Empty this memory (a cache's ``cache_clear``) whenever personal data is erased."""
    _FORGETTERS.append(clear)


def forget_erased() -> None:
    """Personal data was erased: empty every memory that may quote it."""
    for clear in _FORGETTERS:
        clear()

"""A staff member's import file is parsed in a worker thread, not on the event loop: a 5 MB
spreadsheet takes seconds to read, and every resident's message would wait meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from handlers.budget import staff as budget_staff
from handlers.events import File, Sender
from handlers.library import chat_import as library_import
from handlers.plan import chat_import as plan_import

READERS: list[tuple[Any, str, Callable[..., Any]]] = [
    (library_import, "read_titles", library_import.read_file),
    (plan_import, "read_rows", plan_import.read_file),
    (budget_staff, "read_file", budget_staff.read_sent_file),
]


@pytest.mark.parametrize(
    ("module", "parser", "look_up"), READERS, ids=["library", "plan", "budget"]
)
async def test_the_file_is_parsed_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, module: Any, parser: str, look_up: Callable[..., Any]
) -> None:
    threads: list[int] = []

    def parse(*args: object) -> Any:
        threads.append(threading.get_ident())
        raise ValueError("stop here: only where it ran matters")

    monkeypatch.setattr(module, parser, parse)
    sender = Sender("console", "1", "1", "Ana")
    event = File(sender, "document", name="f.csv", content=b"a;b\n1;2\n", size=8)

    with pytest.raises(ValueError, match="stop here"):
        await look_up(None, event)

    (where,) = threads
    assert where != threading.get_ident()

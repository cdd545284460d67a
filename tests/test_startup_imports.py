"""What the bot's start does not import: libraries of the rare work (a librarian's import, a
feed's poll, a calendar file) are imported by that work, so every start does not pay for them."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

# openpyxl brings numpy: half a second of processor at each start, before this was lazy.
# mutagen (a voice note's container) is read only when a voice note comes.
NOT_AT_START = (
    "openpyxl", "numpy", "pymarc", "feedparser", "icalendar", "matplotlib", "mutagen",
)  # fmt: skip


def test_the_command_and_the_running_bot_start_without_the_rare_work_s_libraries() -> None:
    code = (
        "import sys, bot.cli, bot.runtime, bot.app\n"
        f"print(' '.join(m for m in {NOT_AT_START!r} if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120,
        capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert found == []

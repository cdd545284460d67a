"""Benchmark: what the bot's start spends importing, and what it no longer imports.

Runs ``python -X importtime -c "import bot.cli, bot.runtime, bot.app"`` (what ``moja-opstina
run`` imports) N times, and alternated with it, in the same minutes, the same start plus the
modules that the start imported before they were made lazy (mutagen's, which storage.voices
imported at start until stop 21). Prints the medians of the self times summed, the lazy modules'
own share, and the load average (the machine is shared: compare the two in one run).

    python bench/start.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

START = "import bot.cli, bot.runtime, bot.app"
LAZY = ("mutagen", "mutagen.mp3", "mutagen.mp4", "mutagen.oggopus", "mutagen.oggvorbis")


def import_ms(code: str) -> tuple[float, float]:
    """The self times of every import ``code`` makes, summed, and those of the lazy modules (ms)."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True, text=True, check=True, timeout=300,
    ).stderr  # fmt: skip
    total = lazy = 0
    for line in err.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or "self [us]" in line or len(parts) != 3:
            continue
        us = int(parts[0].split(":")[1])
        total += us
        if parts[2].strip().split(".")[0] in {m.split(".")[0] for m in LAZY}:
            lazy += us
    return total / 1000, lazy / 1000


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    load = os.getloadavg()[0]
    before, after, lazy = [], [], []
    for _ in range(runs):
        total, own = import_ms(f"{START}; import {', '.join(LAZY)}")
        before.append(total)
        lazy.append(own)
        total, own = import_ms(START)
        assert own == 0, "the start imports a lazy module"
        after.append(total)
    print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}; {runs} runs each, alternated")
    print(f"start with the lazy modules (before): {statistics.median(before):.0f} ms")
    print(f"start as it is now: {statistics.median(after):.0f} ms")
    print(f"the lazy modules' own: {statistics.median(lazy):.1f} ms (min {min(lazy):.1f})")


if __name__ == "__main__":
    main()

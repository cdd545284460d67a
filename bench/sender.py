"""Benchmark: the outbox sender's processor time per message, the bot's own replies.

Residents complete whole reports through the dispatcher (10 at a time) while the sender is
idle; then the real sender delivers their rows (replies, staff cards, e-mails) to a null
channel with ``drain``, and the process's processor time of the drain is divided by the rows
delivered. It runs three rounds on the same file (the outbox grows as in a day's use) and
prints each, with the load average: the sender alone, which the dispatcher's own work in
``bench/dispatcher.py`` hides.

    python bench/sender.py [--residents 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.dispatcher import NullChannel, NullGeocoder, report_events  # noqa: E402
from bot.app import build_app  # noqa: E402 - after the path is set for a plain script run
from bot.settings import Settings  # noqa: E402
from handlers.municipality import load_municipality  # noqa: E402


async def run(residents: int, rounds: int) -> list[float]:
    """The sender's processor time per delivered row, in µs, for each round."""
    municipality = load_municipality(ROOT / "config" / "vlasotince.toml")
    lights = municipality.categories["street_lighting"]  # as bench/dispatcher.py: no offer
    municipality = replace(
        municipality,
        categories={
            **municipality.categories,
            "street_lighting": replace(lights, duplicate_radius_m=0),
        },
    )
    channel = NullChannel()
    per_row = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"BOT_DATA_DIR": tmp})
        async with build_app(
            settings, municipality, {"bench": channel}, geocoder=NullGeocoder()
        ) as app:
            for event in report_events(0):  # what is done once is not the sender's rate
                await app.dispatcher.dispatch(event)
            await app.sender.drain()
            gate = asyncio.Semaphore(10)

            async def resident(n: int) -> None:
                async with gate:
                    for event in report_events(n):
                        await app.dispatcher.dispatch(event)

            for round_ in range(rounds):
                first = 1 + round_ * residents
                await asyncio.gather(*(resident(first + n) for n in range(residents)))
                delivered, started = channel.delivered, time.process_time()
                await app.sender.drain()
                cpu = time.process_time() - started
                per_row.append(cpu / (channel.delivered - delivered) * 1e6)
    return per_row


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=300, help="residents per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    per_row = asyncio.run(run(args.residents, args.rounds))
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"sender cpu/row: {' '.join(f'{us:.1f}us' for us in per_row)}"
        f" ({args.residents} residents a round; load average {load})"
    )


if __name__ == "__main__":
    main()

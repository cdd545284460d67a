"""Benchmark: six residents send a 7000x7000 PNG of about 60 KB at the same moment.

The whole bot is wired as it runs (``build_app``, the dispatcher, the report flow's look-up that
saves a photo in a worker thread, the real SQLite file), with the messenger adapters imported so
that the baseline is the bot's. Six residents are brought to the photo step, then their six photos
are dispatched at once. Prints the peak RSS of the process before and after, the stored sizes, and
the time per photo (each resident's wait, and the wall time divided by the number of photos).

    python bench/photos.py [--photos 6] [--side 7000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402 - after the path is set for a plain script run

import bot.channels.telegram  # noqa: E402 - the bot's own baseline: its adapters loaded
import bot.channels.viber  # noqa: E402, F401
from bench.dispatcher import NullChannel, NullGeocoder  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.events import ButtonChoice, Command, Inbound, Photo, Sender, Text  # noqa: E402
from handlers.municipality import load_municipality  # noqa: E402
from tests.pngs import striped_png  # noqa: E402


def peak_rss_mb() -> float:
    """The peak resident set of this process so far (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def to_the_photo_step(n: int) -> list[Inbound]:
    """The events that bring resident ``n`` to the photo step of a report."""
    s = Sender("bench", f"r{n}", f"r{n}", "Resident")
    return [
        Command(s, "start", update_id=f"{n}-1"),
        ButtonChoice(s, "lang:en", update_id=f"{n}-2"),
        ButtonChoice(s, "menu:report", update_id=f"{n}-3"),
        ButtonChoice(s, "cat:other", update_id=f"{n}-4"),
        Text(s, f"A wall painted over near number {n}", update_id=f"{n}-5"),
    ]


async def run(photos: int, side: int) -> None:
    """Send the photos at once and print the figures."""
    municipality = load_municipality(ROOT / "config" / "vlasotince.toml")
    pngs = [striped_png(side, side, stripe=400 + 20 * n) for n in range(photos)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"BOT_DATA_DIR": tmp})
        async with build_app(
            settings, municipality, {"bench": NullChannel()}, geocoder=NullGeocoder()
        ) as app:
            for n in range(photos):
                for event in to_the_photo_step(n):
                    await app.dispatcher.dispatch(event)
            before = peak_rss_mb()
            waits: list[float] = []

            async def send(n: int) -> None:
                sender = Sender("bench", f"r{n}", f"r{n}", "Resident")
                event = Photo(sender, f"file-{n}", pngs[n], len(pngs[n]), f"{n}-6")
                start = time.perf_counter()
                await app.dispatcher.dispatch(event)
                waits.append(time.perf_counter() - start)

            started = time.perf_counter()
            await asyncio.gather(*(send(n) for n in range(photos)))
            elapsed = time.perf_counter() - started
            after = peak_rss_mb()
            stored = sorted((Path(tmp) / "photos").rglob("*.jpg"))
            sizes = []
            for path in stored:
                with Image.open(path) as image:
                    sizes.append(f"{image.width}x{image.height}/{path.stat().st_size // 1024}KB")
    assert len(stored) == photos, f"{len(stored)} photos stored of {photos}"
    kb = sum(map(len, pngs)) / len(pngs) / 1024
    print(f"photos={photos} of {side}x{side} px, {kb:.0f} KB each, sent at once")
    print(f"peak RSS: {before:.1f} MB before the photos, {after:.1f} MB after (target <= 150 MB)")
    print(f"stored: {', '.join(sizes)}")
    print(
        f"time per photo: {elapsed / photos:.2f} s (wall {elapsed:.2f} s / {photos});"
        f" each resident's wait: min {min(waits):.2f} s, max {max(waits):.2f} s"
    )


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--side", type=int, default=7000)
    args = parser.parse_args()
    asyncio.run(run(args.photos, args.side))


if __name__ == "__main__":
    main()

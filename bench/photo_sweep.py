"""Benchmark: the job that deletes the photos nothing names (``privacy-unused-photos``).

It looks at the photos saved a day to a week ago; each is one query (six EXISTS, one of them a
scan of the drafts) in the job's write transaction, so the figure that matters is how long that
transaction holds the writer. The real SQLite file, the real job (``run_job``): ``--photos``
files saved two days ago, half of them named by a draft among ``--conversations`` drafts, the
other half named by nothing (deleted).

    python bench/photo_sweep.py [--photos 1000] [--conversations 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.dispatcher import NullChannel, NullGeocoder  # noqa: E402 - after the path is set
from bot.app import build_app  # noqa: E402
from bot.scheduler import find_job, run_job  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.municipality import load_municipality  # noqa: E402
from storage.clock import iso  # noqa: E402


def photo_path(n: int) -> str:
    """Where photo ``n`` is stored, as the database names it."""
    digest = f"{n:064x}"
    return f"photos/{digest[:2]}/{digest}.jpg"


def save_files(folder: Path, photos: int, at: float) -> None:
    """The photo files, saved at ``at``."""
    for n in range(photos):
        target = folder / photo_path(n)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"\xff\xd8 bench \xff\xd9")
        os.utime(target, (at, at))


def stored(folder: Path) -> list[str]:
    """The photo files left."""
    return sorted(p.relative_to(folder).as_posix() for p in (folder / "photos").rglob("*.jpg"))


async def run(photos: int, conversations: int) -> None:
    """Store the files and the drafts, run the job once and print the figures."""
    municipality = load_municipality(ROOT / "config" / "vlasotince.toml")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"BOT_DATA_DIR": tmp})
        async with build_app(
            settings, municipality, {"bench": NullChannel()}, geocoder=NullGeocoder()
        ) as app:
            now = app.deps.clock.now()
            save_files(Path(tmp), photos, (now - timedelta(days=2)).timestamp())
            named = [photo_path(n) for n in range(0, photos, 2)]
            async with app.db.transaction() as conn:
                for n in range(conversations):
                    await conn.execute(
                        "INSERT INTO users (channel, external_id, chat_id, created_at)"
                        " VALUES ('bench', ?, ?, ?)",
                        (f"r{n}", f"r{n}", iso(now)),
                    )
                    photo = [{"path": named[n], "sha256": "x"}] if n < len(named) else []
                    draft = {"description": "A wall painted over near the school " * 4,
                             "photos": photo}  # fmt: skip
                    await conn.execute(
                        "INSERT INTO conversations (user_id, state, draft, updated_at)"
                        " VALUES (last_insert_rowid(), 'report:photos', ?, ?)",
                        (json.dumps(draft), iso(now)),
                    )
            job = find_job(app.deps.registry, "privacy-unused-photos")
            started = time.perf_counter()
            await run_job(app.db, app.deps, app.sender, job)
            elapsed = time.perf_counter() - started
        left = stored(Path(tmp))
    assert left == sorted(named), f"{len(left)} photos left, {len(named)} named"
    print(f"photos={photos} saved two days ago ({len(named)} named by a draft),"
          f" conversations={conversations}")  # fmt: skip
    print(
        f"the job: {elapsed * 1000:.0f} ms in all, {elapsed * 1e6 / photos:.0f} µs per photo;"
        f" {photos - len(named)} deleted"
    )


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=20000)
    args = parser.parse_args()
    asyncio.run(run(args.photos, args.conversations))


if __name__ == "__main__":
    main()

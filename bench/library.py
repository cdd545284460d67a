"""Benchmark: the library's import of a large export and the digest job over many followers.

Builds N UNIMARC records (pymarc, as COBISS exports them), reads them as ISO 2709 and as MARCXML,
stores them into a fresh SQLite file (the dedupe against what is there included), imports the same
file again (all known), then runs the digest job for F followers who each follow a subject and
an author. Prints the time of each step and the number of messages written.

    python bench/library.py [--titles 10000] [--followers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from handlers.library import follow, importing  # noqa: E402 - after the path is set
from handlers.library.reading import read_titles  # noqa: E402
from handlers.library.titles import SUBJECTS  # noqa: E402
from handlers.municipality import load_municipality  # noqa: E402
from storage import library  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.library_records import iso2709, marcxml, unimarc  # noqa: E402

UDC = ["821.163.41-31", "821.163.41-93", "908(497.11)", "94(497.11)", "51", "61", "78", "34"]


def records(n: int) -> list[object]:
    """N records by 500 authors, over eight subjects."""
    return [
        unimarc(f"Наслов број {i}", f"Презиме{i % 500}", "Име", udc=UDC[i % len(UDC)])
        for i in range(n)
    ]


async def main(titles: int, followers: int) -> None:
    """Run each step and print its figures."""
    made = records(titles)
    marc, xml = iso2709(*made), marcxml(*made)  # type: ignore[arg-type]
    started = time.perf_counter()
    read = read_titles("export.mrc", marc)
    iso_s = time.perf_counter() - started
    started = time.perf_counter()
    read_titles("export.xml", xml)
    xml_s = time.perf_counter() - started
    print(f"{titles} records: ISO 2709 {len(marc) / 1e6:.1f} MB read in {iso_s:.2f} s,"
          f" MARCXML {len(xml) / 1e6:.1f} MB in {xml_s:.2f} s")  # fmt: skip
    now = datetime(2026, 5, 18, 8, 0, tzinfo=UTC)
    municipality = load_municipality(ROOT / "config" / "vlasotince.toml")
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "bot.db")
        try:
            async with db.transaction() as conn:
                for i in range(followers):
                    cursor = await conn.execute(
                        "INSERT INTO users (channel, external_id, chat_id, first_name, language,"
                        " role, created_at) VALUES ('test', ?, ?, 'R', 'en', 'resident', ?)",
                        (str(i), str(i), now.isoformat()),
                    )
                    user_id = cursor.lastrowid
                    assert user_id is not None
                    await library.follow(conn, user_id, "subject", list(SUBJECTS)[i % 8], now)
                    await library.follow(conn, user_id, "author", f"Име Презиме{i % 500}", now)
            for label in ("first import", "same file again"):
                started = time.perf_counter()
                async with db.transaction() as conn:
                    found = await importing.preview_titles(conn, "marc", read)
                    added = await importing.store(conn, found, now)
                took = time.perf_counter() - started
                print(f"{label}: {len(added)} added, {found.duplicates} known, {took:.2f} s")
            started = time.perf_counter()
            async with db.transaction() as conn:
                out = await follow.send_digests(conn, municipality, now)
            took = time.perf_counter() - started
            print(f"digest job: {followers} followers, {len(out)} messages in {took:.2f} s")
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--titles", type=int, default=10_000)
    parser.add_argument("--followers", type=int, default=1_000)
    args = parser.parse_args()
    asyncio.run(main(args.titles, args.followers))

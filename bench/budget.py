"""Benchmark: importing a 5,000-line budget file (target under 2 s), a resident's overview, and
the program chart (first drawing under 300 ms, cached under 5 ms).

Writes a CSV of 5,000 spending and revenue lines in the shape staff produce (semicolons, decimal
comma, thousands points, UTF-8) and an XLSX of the same lines, then times, on a real SQLite file:
the whole-file check (read_budget), the store of the version (one transaction), and the resident's
overview and a program's page through the dispatcher's path (the queries a press runs); then the
overview's chart of the 17 programs drawn by the outbox sender's renderer: the first drawing in a
warm process (the sender warms matplotlib at its first quiet moment; a new version and
language; the median of the runs and their range), again from its cache, the size of its file
(it goes to phones over mobile data), the processor time of its drawing (the drawing thread's
own, in each language in turn: steadier than a duration on a shared machine), and, each in a
fresh process, the first drawing including matplotlib's import (what a process that never
warmed up pays). The load average is printed beside the figures: the machine is shared, and
the ratios of one run say more than its milliseconds; compare code by alternating runs of this
script on each in the same minutes.

    python bench/budget.py [--lines 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402 - after the path is set for a plain script run

from bot.charts import ChartRenderer, render_png  # noqa: E402
from handlers.budget import charts, imports  # noqa: E402
from handlers.budget.importer import DocumentKind, read_budget  # noqa: E402
from handlers.budget.programs import PROGRAMS  # noqa: E402
from handlers.i18n import translator  # noqa: E402
from storage import budget  # noqa: E402
from storage.db import Database  # noqa: E402

HEADER = "vrsta;program;aktivnost;naziv;funkcija;konto;izvor;planirano;izvršeno"
ACCOUNTS = ("411", "412", "421", "423", "424", "425", "426", "451", "463", "472", "481", "511")


def rows(n: int) -> list[list[str]]:
    """``n`` distinct lines: spending over the 17 programs, a tenth revenue."""
    out = []
    codes = list(PROGRAMS)
    for i in range(n):
        planned = 1_000_000 + 7_919 * i
        executed = planned * 45 // 100
        if i % 10 == 9:
            out.append(["prihod", "", "", f"Приход {i}", "", f"7{i:05d}"[:6], "01",
                        str(planned), str(executed)])  # fmt: skip
            continue
        program = codes[i % len(codes)]
        activity = f"{program}-{(i // len(codes)) % 9999 + 1:04d}"
        account = ACCOUNTS[i % len(ACCOUNTS)]
        out.append(["rashod", program, activity, f"Активност {i}", "620", account, "01",
                    str(planned), str(executed)])  # fmt: skip
    return out


def dinars(raw: str) -> str:
    """Whole dinars written as staff write them: 1.234.567,00."""
    return f"{int(raw):,}".replace(",", ".") + ",00"


def csv_bytes(lines: list[list[str]]) -> bytes:
    """The lines as a semicolon-separated UTF-8 file."""
    body = [";".join([*r[:7], dinars(r[7]), dinars(r[8])]) for r in lines]
    return ("\r\n".join([HEADER, *body]) + "\r\n").encode("utf-8")


def xlsx_bytes(lines: list[list[str]]) -> bytes:
    """The lines as an Excel workbook, amounts as numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(";"))
    for r in lines:
        sheet.append([*r[:7], int(r[7]), int(r[8])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed(work: object) -> float:
    """Seconds that ``work()`` took."""
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


Figures = tuple[float, float, float, float, float, int]


async def store_and_read(content: bytes, folder: Path, run: int) -> Figures:
    """Seconds to store the version, to read the overview and a program's page, to draw the
    overview's chart the first time and from the cache; the chart's size in bytes."""
    db = await Database.open(folder / f"bench-{run}.db")
    try:
        lines = read_budget("bench.csv", content, DocumentKind.EXECUTION)
        document = imports.Document(2026, DocumentKind.EXECUTION, date(2026, 6, 30), "bench.csv")
        start = time.perf_counter()
        async with db.transaction() as conn:
            await imports.store(conn, document, lines, imported_by=None, now=datetime.now(UTC))
        stored = time.perf_counter() - start
        start = time.perf_counter()
        v = await budget.latest(db.conn)
        assert v is not None
        await budget.program_totals(db.conn, v.id)
        await budget.revenue_totals(db.conn, v.id)
        overview = time.perf_counter() - start
        start = time.perf_counter()
        await budget.activity_totals(db.conn, v.id, "0701")
        program = time.perf_counter() - start
        chart = charts.spending(translator("sr-Cyrl"), v, await totals(db, v.id))
        assert chart is not None
        renderer = ChartRenderer(folder / f"data-{run}")
        start = time.perf_counter()
        drawn = await renderer.draw(chart)
        first = time.perf_counter() - start
        start = time.perf_counter()
        await renderer.draw(chart)
        cached = time.perf_counter() - start
        size = (folder / f"data-{run}" / drawn).stat().st_size
        return stored, overview, program, first, cached, size
    finally:
        await db.close()


def program_chart(language: str = "sr-Cyrl") -> bytes:
    """The overview's chart of 17 programs from figures alone (no database)."""
    version = budget.Version(1, 2026, DocumentKind.EXECUTION, date(2026, 6, 30), "bench.csv")
    totals = [
        budget.Total(code, "", 1_000_000_000 + 7_919_000 * i, 450_000_000 + 3_000_000 * i)
        for i, code in enumerate(PROGRAMS)
    ]
    chart = charts.spending(translator(language), version, totals)
    assert chart is not None
    return render_png(chart)


def drawing_cpu(runs: int) -> list[float]:
    """Processor seconds of this thread for drawing the chart in each language in turn: what
    the drawing itself costs, less disturbed than its duration by other work on the machine."""
    found = []
    for run in range(runs):
        language = ("sr-Cyrl", "sr-Latn", "en", "hu")[run % 4]
        translator(language)  # its catalog loaded before, not counted
        start = time.thread_time()
        program_chart(language)
        found.append(time.thread_time() - start)
    return found


def cold_first_drawing(runs: int) -> list[float]:
    """Seconds of the first drawing in a fresh process, matplotlib's import included."""
    found = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, __file__, "--cold"], check=True, capture_output=True, text=True
        )
        found.append(float(done.stdout))
    return found


def load() -> str:
    """The load average (1, 5, 15 minutes) and the cores."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


async def totals(db: Database, version_id: int) -> list[budget.Total]:
    """The version's totals per program."""
    return await budget.program_totals(db.conn, version_id)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:  # one first drawing in this fresh process, matplotlib's import included
        print(timed(program_chart))
        return
    print(load())
    lines = rows(args.lines)
    csv_file, xlsx_file = csv_bytes(lines), xlsx_bytes(lines)
    check_csv = [
        timed(lambda: read_budget("b.csv", csv_file, DocumentKind.EXECUTION))
        for _ in range(args.runs)
    ]
    check_xlsx = [
        timed(lambda: read_budget("b.xlsx", xlsx_file, DocumentKind.EXECUTION))
        for _ in range(args.runs)
    ]
    with tempfile.TemporaryDirectory() as folder:
        # As the outbox sender does at its first quiet moment: matplotlib imported and warmed.
        warm_up = timed(lambda: ChartRenderer(Path(folder)).warm().join())
        results = [
            asyncio.run(store_and_read(csv_file, Path(folder), run)) for run in range(args.runs)
        ]
    stored = [r[0] for r in results]
    total = [c + s for c, s in zip(check_csv, stored, strict=True)]
    sizes = f"CSV {len(csv_file) / 1024:.0f} KB, XLSX {len(xlsx_file) / 1024:.0f} KB"
    print(f"{args.lines} lines, {sizes}, median of {args.runs} runs")
    print(f"check CSV (whole file)   {statistics.median(check_csv) * 1000:8.1f} ms")
    print(f"check XLSX (whole file)  {statistics.median(check_xlsx) * 1000:8.1f} ms")
    print(f"store the version        {statistics.median(stored) * 1000:8.1f} ms")
    print(f"import CSV (check+store) {statistics.median(total) * 1000:8.1f} ms (target < 2000 ms)")
    print(f"overview queries         {statistics.median([r[1] for r in results]) * 1000:8.2f} ms")
    print(f"program page query       {statistics.median([r[2] for r in results]) * 1000:8.2f} ms")
    firsts = [r[3] * 1000 for r in results]
    first = statistics.median(firsts)
    cached = statistics.median([r[4] for r in results]) * 1000
    cpu = statistics.median(drawing_cpu(args.runs)) * 1000
    cold = statistics.median(cold_first_drawing(args.runs)) * 1000
    print(f"chart warm-up when quiet {warm_up * 1000:8.1f} ms (in the background, waited for here)")
    print(f"program chart, first     {first:8.1f} ms (target < 300 ms; a warm process;"
          f" {min(firsts):.0f}-{max(firsts):.0f} ms)")  # fmt: skip
    print(f"program chart, cached    {cached:8.2f} ms (target < 5 ms)")
    print(f"program chart, the file  {results[-1][5] / 1024:8.1f} KB (sent to phones)")
    print(f"its drawing's CPU time   {cpu:8.1f} ms (the drawing thread's, whatever the load)")
    print(f"first incl. the import   {cold:8.1f} ms (a fresh process that never warmed up)")
    print(load())


if __name__ == "__main__":
    main()

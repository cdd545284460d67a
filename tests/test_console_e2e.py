"""The real ``moja-opstina chat`` in a subprocess: a whole report, and a SIGKILL in the middle."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue

from tests.conftest import jpeg

ROOT = Path(__file__).resolve().parent.parent


def bot_env(data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_DATA_DIR": str(data),
        "BOT_CONFIG": str(ROOT / "config" / "vlasotince.toml"),
        # Nothing listens there: no test reaches beyond loopback.
        "GEOCODER_URL": "http://127.0.0.1:9",
        "GEOCODER_TIMEOUT": "1",
    }


def command() -> list[str]:
    script = shutil.which("moja-opstina", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bot"]


def stored_reports(data: Path) -> list[tuple[str, str, str, int]]:
    with sqlite3.connect(data / "bot.db") as db:
        return db.execute(
            "SELECT r.ref, r.category, r.description,"
            " (SELECT COUNT(*) FROM report_photos p WHERE p.report_id = r.id)"
            " FROM reports r ORDER BY r.id"
        ).fetchall()


def test_a_piped_conversation_stores_a_report(tmp_path: Path) -> None:
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(jpeg())
    script = "\n".join(
        [
            "/start",
            "English",  # a button chosen by its label
            "⏭ Not now",  # the topics offered once
            "1",  # Report a problem
            "1",  # Road damage and potholes
            "Deep pothole in front of the post office",
            f"/photo {photo}",
            "1",  # Done
            "/location 42.9661 22.1290",
            "1",  # Confirm
        ]
    )
    done = subprocess.run(
        [*command(), "chat", "--user", "ana"],
        input=script + "\n",
        env=bot_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "VLA-2026-00001" in done.stdout
    assert "  1. 📝 Report a problem" in done.stdout
    assert stored_reports(tmp_path / "data") == [
        ("VLA-2026-00001", "road_damage", "Deep pothole in front of the post office", 1)
    ]


class Chat:
    """A console bot process driven line by line."""

    def __init__(self, data: Path) -> None:
        self.process = subprocess.Popen(
            [*command(), "chat", "--user", "mila"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=bot_env(data),
            text=True,
        )
        self.lines: Queue[str] = Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def close(self) -> int:
        """Close stdin, wait for the process and close its pipes."""
        assert self.process.stdin is not None
        if not self.process.stdin.closed:
            self.process.stdin.close()
        code = self.process.wait(timeout=20)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code

    def send(self, line: str, expect: str, timeout: float = 20) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                seen.append(self.lines.get(timeout=0.1))
            except Empty:
                continue
            if expect in seen[-1]:
                return
        raise AssertionError(f"{expect!r} not printed after {line!r}: {seen}")


def test_after_a_sigkill_the_resident_continues_at_the_same_step(tmp_path: Path) -> None:
    data = tmp_path / "data"
    photo = tmp_path / "light.jpg"
    photo.write_bytes(jpeg("yellow"))
    first = Chat(data)
    first.send("/start", "English")
    first.send("English", "Not now")
    first.send("⏭ Not now", "Report a problem")
    first.send("1", "Street lighting")
    first.send("2", "Describe the problem")
    first.send("The street light at the bus stop is dark", "Send up to 3 photos")
    first.send(f"/photo {photo}", "Photo 1 of 3 added.")
    first.process.send_signal(signal.SIGKILL)
    assert first.close() == -signal.SIGKILL

    second = Chat(data)
    second.send("/start", "You have a report in progress")
    second.send("1", "Where is the problem?")  # Done: the photo added before the kill is kept
    second.send("/location 42.9650 22.1300", "Photos: 1")
    second.send("1", "VLA-2026-00001")
    assert second.close() == 0
    assert stored_reports(data) == [
        ("VLA-2026-00001", "street_lighting", "The street light at the bus stop is dark", 1)
    ]

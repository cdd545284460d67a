"""``moja-opstina run`` on the console (``make run``) serves the public site as well: a newcomer
opens http://127.0.0.1:8080/ while chatting."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import free_port
from tests.test_console_e2e import bot_env, command


def fetch(url: str, seconds: float = 30) -> tuple[int, str]:
    """The page once the server answers (the process is starting)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback only
                return answer.status, answer.read().decode()
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_console_run_serves_the_site_and_the_data(tmp_path: Path) -> None:
    port = free_port()
    env = {**bot_env(tmp_path / "data"), "HTTP_PORT": str(port)}
    process = subprocess.Popen(
        [*command(), "run"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        status, page = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert "<h1>Власотинце</h1>" in page
        assert "/static/leaflet/leaflet.js" in page
        status, data = fetch(f"http://127.0.0.1:{port}/data/")
        assert "reports.csv" in data
        status, services = fetch(f"http://127.0.0.1:{port}/open311/v2/services.json")
        assert "road_damage" in services
    finally:
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=30) == 0

"""The suite's guard: a test that hangs fails alone, with a traceback, instead of stalling CI."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HANGING_TEST = """
import asyncio


async def test_waits_for_an_update_that_never_comes() -> None:
    await asyncio.Event().wait()


def test_after_the_hang() -> None:
    assert True
"""
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\ntimeout = 2\n"


def test_every_test_has_a_generous_timeout(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert 60 <= float(pytestconfig.getini("timeout")) <= 300


def test_a_hanging_async_test_fails_with_its_traceback_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(textwrap.dedent(HANGING_TEST))
    (tmp_path / "pytest.ini").write_text(INI)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "Failed: Timeout (>2.0s) from pytest-timeout" in run.stdout
    assert "test_waits_for_an_update_that_never_comes" in run.stdout

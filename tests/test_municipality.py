"""The municipality files: every shipped file loads; a broken one stops the bot with one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.municipality import CATEGORY_IDS, MunicipalityFileError, load_municipality

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "config").glob("*.toml"))


def test_the_five_municipalities_are_shipped() -> None:
    codes = {load_municipality(f).code for f in FILES}
    assert codes == {"VLA", "SOM", "LAP", "BPA", "NPA"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_file_is_valid_and_complete(path: Path) -> None:
    m = load_municipality(path)
    assert set(m.categories) == set(CATEGORY_IDS)
    assert m.languages[:2] == ("sr-Cyrl", "sr-Latn")
    assert "en" in m.languages
    assert ("hu" in m.languages) == (m.code == "SOM")
    assert ("bs" in m.languages) == (m.code == "NPA")
    assert any(s.role == "admin" for s in m.staff)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[municipality\n", "not valid TOML"),
        ('[municipality]\ncode = "vl"\n', "'code' must be three capital letters"),
        ("", "missing table [municipality]"),
    ],
)
def test_an_invalid_file_is_named_with_its_problem(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MunicipalityFileError, match=re.escape(problem)) as info:
        load_municipality(path)
    assert str(path) in str(info.value)


def test_a_category_with_an_unknown_service_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "config" / "lapovo.toml").read_text(encoding="utf-8")
    path = tmp_path / "lapovo.toml"
    path.write_text(
        text.replace('id = "other"\nservice = "', 'id = "other"\nservice = "x'), encoding="utf-8"
    )
    with pytest.raises(MunicipalityFileError, match="unknown service"):
        load_municipality(path)


def test_the_bot_stops_with_one_clear_line_on_a_missing_file(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BOT_CONFIG": str(tmp_path / "nowhere.toml"),
        "BOT_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"moja-opstina: {tmp_path / 'nowhere.toml'}: file not found"
    assert "Traceback" not in done.stderr


def test_the_name_follows_the_readers_language() -> None:
    sombor = load_municipality(ROOT / "config" / "sombor.toml")
    assert [sombor.name_in(lang) for lang in ("sr-Cyrl", "sr-Latn", "en", "hu")] == [
        "Сомбор",
        "Sombor",
        "Sombor",
        "Zombor",
    ]

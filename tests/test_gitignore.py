"""What git leaves out of the repository: the virtual environment also when ``.venv`` is a
symlink to one kept elsewhere (a worktree sharing another's), which ``.venv/`` does not match."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT


def test_a_venv_that_is_a_symlink_is_ignored(tmp_path: Path) -> None:
    git = shutil.which("git")
    assert git is not None
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True, timeout=60)
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / ".venv").symlink_to(tmp_path / "elsewhere")
    ignored = subprocess.run(
        [git, "check-ignore", "-q", ".venv"], cwd=tmp_path, check=False, timeout=60
    )
    assert ignored.returncode == 0

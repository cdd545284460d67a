"""A lock on the data folder: the bot holds it shared while it runs, a restore exclusively.

An advisory ``flock`` on a file in the folder: the kernel drops it when the process ends,
however it ends, so a crashed bot never leaves the folder locked.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".lock"


class DataDirBusyError(Exception):
    """Another process holds the data folder in a way that excludes this one."""


@contextmanager
def shared(data_dir: Path) -> Iterator[None]:
    """Hold the folder while the bot (or the console, or a migration) uses it."""
    with _locked(data_dir, fcntl.LOCK_SH):
        yield


@contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """Hold the folder alone (a restore), or raise ``DataDirBusyError`` at once."""
    with _locked(data_dir, fcntl.LOCK_EX):
        yield


@contextmanager
def _locked(data_dir: Path, mode: int) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise DataDirBusyError(str(data_dir)) from e
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

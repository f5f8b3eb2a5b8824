"""Private local folders for tuning runs, cleaned up even after runs that were SIGKILLed.

A run's folder holds its copy of the dataset and what it writes before publishing it.
A run removes its folder as it ends; a run killed before that leaves it behind, so each new
run first removes the folders whose runs are gone. A run holds a lock on its folder while it
lives (flock: the kernel drops it when the process dies, however it dies), and both that
sweep and the making of a folder happen under one lock on the whole scratch root, so a folder
is never swept between its making and its locking.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sintonia.storage.files import locked

log = logging.getLogger(__name__)

_LOCK = ".lock"


@contextlib.contextmanager
def run_folder(root: Path, prefix: str) -> Iterator[Path]:
    """A new folder under `root` for one run, removed when the block ends."""
    root.mkdir(parents=True, exist_ok=True)
    with locked(root.with_name(root.name + _LOCK)):  # beside `root`: its folders are runs
        _sweep(root)
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        mine = (folder / _LOCK).open("w")
        fcntl.flock(mine, fcntl.LOCK_EX)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        mine.close()


def _sweep(root: Path) -> None:
    """Remove the folders under `root` whose runs are gone (their lock is free)."""
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        try:
            with (folder / _LOCK).open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live run's
        except OSError:
            pass  # being removed already
        log.info("removing %s, left behind by a run that was killed", folder)
        shutil.rmtree(folder, ignore_errors=True)

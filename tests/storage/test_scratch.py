"""Run folders: private to a run while it lives, removed as it ends, and swept by the next
run when a SIGKILL left them behind."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sintonia.storage.scratch import run_folder

HOLD = """
import sys, time
from pathlib import Path
from sintonia.storage.scratch import run_folder
with run_folder(Path(sys.argv[1]), prefix="held-") as folder:
    (folder / "dataset.jsonl").write_text("{}")
    print(folder, flush=True)
    time.sleep(600)
"""


def _holder(root: Path) -> tuple[subprocess.Popen, Path]:
    """Another process in the middle of a run: its folder, and the process."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True
    )
    return process, Path(process.stdout.readline().strip())


def test_a_run_folder_is_removed_as_the_run_ends_even_by_an_error(tmp_path) -> None:
    with run_folder(tmp_path, prefix="m-") as folder:
        assert folder.is_dir() and folder.parent == tmp_path
    assert not folder.exists()
    with pytest.raises(RuntimeError), run_folder(tmp_path, prefix="m-") as folder:
        raise RuntimeError
    assert not folder.exists()


def test_the_next_run_sweeps_what_killed_runs_left_and_spares_live_ones(tmp_path) -> None:
    killed, left = _holder(tmp_path)
    live, held = _holder(tmp_path)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert (left / "dataset.jsonl").exists()  # nobody cleans up after a SIGKILL

        with run_folder(tmp_path, prefix="m-") as folder:
            assert not left.exists()
            assert (held / "dataset.jsonl").exists()
            assert folder.exists()
    finally:
        live.kill()
        live.wait()
        for process in (killed, live):
            process.stdout.close()

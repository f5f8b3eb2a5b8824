"""Atomic writes: a failure mid-write (a full disk, a crash) leaves the old file whole."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from sintonia.storage.files import write_atomically


def test_a_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.bin"
    write_atomically(target, lambda handle: handle.write(b"one"))
    write_atomically(target, lambda handle: handle.write(b"two"))
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["state.bin"]  # no temp files left


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_previous_version(tmp_path: Path, failure) -> None:
    target = tmp_path / "state.bin"
    write_atomically(target, lambda handle: handle.write(b"previous"))

    def half_then_fail(handle) -> None:
        handle.write(b"half of the new")
        raise failure

    with pytest.raises(type(failure)):
        write_atomically(target, half_then_fail)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"]

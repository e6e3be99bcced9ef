"""Real small or read-only filesystems (tmpfs) for tests of full disks and read-only folders.

Mounting needs root: elsewhere the tests skip with the reason, and under ``CI=true`` they
fail (``xmargin.testing.system.require``), so CI cannot pass without exercising them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xmargin.testing.system import require

NEEDS_ROOT = "mounting a small tmpfs needs root (mount -t tmpfs)"


@contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """Mount a tmpfs with ``options`` (e.g. ``size=64k`` or ``ro``) on ``folder``; unmount after."""
    require(os.geteuid() == 0, NEEDS_ROOT)
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    require(mounted.returncode == 0, f"mount -t tmpfs failed: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path) -> None:
    """Fill the filesystem of ``folder`` until no byte is free."""
    descriptor = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(descriptor, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(descriptor)

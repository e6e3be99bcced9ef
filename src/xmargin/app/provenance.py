"""The code version a stored run records: the package version plus the git commit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from xmargin import __version__


def code_version() -> str:
    """``VERSION`` plus the git commit (and ``-dirty``) when running from a checkout."""
    source = Path(__file__).resolve().parents[1]
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
            env=env,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
            env=env,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}{'-dirty' if changes else ''}" if commit else __version__

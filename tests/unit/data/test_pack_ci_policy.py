"""Without the market-data pack a test that needs it skips locally and fails under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NEEDS_PACK = """
from tests.pack import needs_pack

@needs_pack
def test_reads_the_pack():
    pass
"""


def run_without_pack(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_needs.py").write_text(NEEDS_PACK)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["XMARGIN_DATA_DIR"] = str(tmp_path / "no-pack-here")
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-p", "tests.conftest", "--rootdir", str(tmp_path), str(tmp_path)),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_pack_skips_locally(tmp_path):
    result = run_without_pack(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout


def test_a_missing_pack_fails_under_ci(tmp_path):
    result = run_without_pack(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert "CI=true: this test must not be skipped" in result.stdout
    assert "1 error" in result.stdout or "1 failed" in result.stdout

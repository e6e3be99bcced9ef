"""The HTML report renders in a real headless Chromium: a full, non-blank page with its charts.

Needs Debian's ``chromium`` (scripts/ensure-system-packages.sh): skipped locally without it,
a failure under ``CI=true``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image

from xmargin.research.report import build_report
from xmargin.research.report_html import render_html
from xmargin.storage import open_database, persist_run
from xmargin.testing.runs import sample_outcome
from xmargin.testing.system import require

WIDTH, HEIGHT = 1280, 2000
EQUITY_BLUE = (0x25, 0x63, 0xEB)
LIQUIDATION_RED = (0xDC, 0x26, 0x26)
BREAKER_AMBER = (0xD9, 0x77, 0x06)


def chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    require(browser is not None, "chromium not found: run scripts/ensure-system-packages.sh")
    assert browser is not None
    return browser


def screenshot(html: Path, png: Path, profile: Path) -> None:
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={WIDTH},{HEIGHT}",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def pixels_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 24) -> int:
    rgb = image.convert("RGB")
    return sum(
        count
        for count, (r, g, b) in rgb.getcolors(maxcolors=WIDTH * HEIGHT) or []
        if abs(r - colour[0]) + abs(g - colour[1]) + abs(b - colour[2]) <= tolerance
    )


def test_the_report_renders_as_a_full_page_with_charts_and_markers(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'runs.db'}")
    run_id = persist_run(db, "sample.toml", "", 0, sample_outcome(), name="browser check")
    html = tmp_path / "report.html"
    html.write_text(render_html(build_report(db, run_id)), encoding="utf-8")
    png = tmp_path / "report.png"

    screenshot(html, png, tmp_path / "profile")

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(png)
    assert image.size == (WIDTH, HEIGHT)
    colours = image.convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT) or []
    assert len(colours) > 200, "the page looks blank"
    background = max(colours)[0] / (WIDTH * HEIGHT)
    assert background < 0.9, f"{background:.0%} of the page is one colour"
    assert pixels_near(image, EQUITY_BLUE) > 300, "no equity line"
    assert pixels_near(image, LIQUIDATION_RED) > 100, "no liquidation marker or drawdown"
    assert pixels_near(image, BREAKER_AMBER) > 30, "no breaker marker"

"""How long do whole ``xmargin`` processes take to start, next to a bare interpreter?

Each command runs ``--repeat`` times as a fresh process (the venv's interpreter, not
``uv run``); the median wall time is printed with the heavy libraries the command left in
``sys.modules``. The reference measured in the same run is ``python -c pass``: what any
command pays before importing anything. Targets on the development machine: ``--help``
under 0.3 s, ``margin`` on an example account under 0.8 s.

    uv run python bench/cli_startup.py [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = ROOT / "examples" / "accounts" / "binance_usdm_two_positions.toml"
HEAVY = ("ccxt", "sqlalchemy", "alembic", "sklearn", "pyarrow", "numpy")
REPORT = f"import sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
PROBE = (
    "import sys\n"
    "from xmargin.app.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n" + REPORT
)
COMMANDS = {
    "python -c pass (reference)": ["-c", REPORT],
    "xmargin --help": ["-c", PROBE, "--help"],
    "xmargin margin ACCOUNT": ["-c", PROBE, "margin", str(ACCOUNT)],
    "import the backtest runner": ["-c", "import xmargin.backtest.runner\n" + REPORT],
}


def median_wall(arguments: list[str], repeat: int) -> tuple[float, str]:
    """Median wall seconds of ``python ARGUMENTS`` and the heavy modules it reported."""
    walls = []
    heavy = ""
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *arguments], cwd=ROOT, capture_output=True, text=True, check=True
        )
        walls.append(time.perf_counter() - started)
        heavy = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    return statistics.median(walls), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = {}
    for label, arguments in COMMANDS.items():
        wall, heavy = median_wall(arguments, args.repeat)
        figures[label] = {"median_s": round(wall, 3), "heavy_modules": heavy}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    reference = figures["python -c pass (reference)"]["median_s"]
    for label, figure in figures.items():
        extra = figure["median_s"] - reference
        heavy = figure["heavy_modules"] or "none"
        print(
            f"{label:30} {figure['median_s']:7.3f} s  (+{extra:6.3f} s over the reference)"
            f"   heavy modules: {heavy}"
        )


if __name__ == "__main__":
    main()

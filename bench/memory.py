"""How much memory does a full backtest take, and does it grow with the run's length?

Each configuration runs ``xmargin backtest CONFIG --db sqlite:///… --json`` in a child
process (the SMA 20/100 cross of bench/backtest_speed.py on deterministic synthetic 1-minute
bars, one strategy per symbol, every event stored in SQLite) and reads the child's peak
resident set size (``ru_maxrss`` from ``wait4``). Two references are measured in the same
run, each in its own child: the bare interpreter with the CLI and engine modules imported,
and the same interpreter that also loads the data files into their arrays and does nothing
else. The engine's own share is the backtest's peak minus that data-alone peak.

    uv run python bench/memory.py [--bars 100000,250000,525600] [--symbols 1,4] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xmargin.testing.sma_run import write_config

DEFAULT_BARS = (100_000, 250_000, 525_600)
IMPORTS = (
    "import xmargin.app.cli, xmargin.app.cli_backtest, xmargin.backtest.runner, "
    "xmargin.storage, xmargin.data.loaders"
)


def peak_rss_mib(argv: list[str]) -> tuple[float, float, str]:
    """Run ``argv``; return its peak RSS (MiB), its wall time (s) and its standard output."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    out = child.stdout.read()
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}… failed ({child.returncode}): {err.decode()}")
    return usage.ru_maxrss / 1024, wall, out.decode()


def measure(folder: Path, bars: int, symbols: int) -> dict[str, object]:
    config = write_config(folder, bars, symbols)
    database = folder / f"runs_{bars}_{symbols}.db"
    database.unlink(missing_ok=True)
    python = sys.executable
    cli = [python, "-c", "from xmargin.app.cli import main; main()"]
    run = [*cli, "backtest", str(config), "--db", f"sqlite:///{database}", "--json"]
    backtest_mib, wall, out = peak_rss_mib(run)
    summary = json.loads(out)
    load = (
        f"{IMPORTS}; import sys; from pathlib import Path; "
        "from xmargin.data.loaders import load_file; "
        "kept = [load_file(Path(p), venue='binance', symbol='X', kind='ohlcv', "
        "timeframe='1m') for p in sys.argv[1:]]"
    )
    files = [str(folder / f"bars_{bars}_{i}.csv") for i in range(symbols)]
    data_mib, _, _ = peak_rss_mib([python, "-c", load, *files])
    database.unlink(missing_ok=True)
    return {
        "bars_per_symbol": bars,
        "symbols": symbols,
        "events": summary["events"],
        "fills": summary["fills"],
        "backtest_peak_mib": round(backtest_mib, 1),
        "data_alone_peak_mib": round(data_mib, 1),
        "engine_over_data_mib": round(backtest_mib - data_mib, 1),
        "wall_s": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", default=",".join(str(b) for b in DEFAULT_BARS))
    parser.add_argument("--symbols", default="1,4")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bar_counts = [int(b) for b in args.bars.split(",")]
    symbol_counts = [int(s) for s in args.symbols.split(",")]
    imports_mib, _, _ = peak_rss_mib([sys.executable, "-c", IMPORTS])
    rows = []
    with tempfile.TemporaryDirectory(prefix="xmargin-memory-") as tmp:
        for symbols in symbol_counts:
            for bars in bar_counts:
                rows.append(measure(Path(tmp), bars, symbols))
                if not args.json:
                    row = rows[-1]
                    print(
                        f"{symbols} symbol(s) × {bars:>7,} bars: peak "
                        f"{row['backtest_peak_mib']:7.1f} MiB  (imports + data alone "
                        f"{row['data_alone_peak_mib']:6.1f} MiB, engine +"
                        f"{row['engine_over_data_mib']:6.1f} MiB)  {row['events']:>9,} events"
                        f"  {row['wall_s']:6.1f} s",
                        flush=True,
                    )
    if args.json:
        print(json.dumps({"imports_alone_peak_mib": round(imports_mib, 1), "runs": rows}, indent=2))
    else:
        print(f"reference: interpreter with the modules imported {imports_mib:.1f} MiB")


if __name__ == "__main__":
    main()

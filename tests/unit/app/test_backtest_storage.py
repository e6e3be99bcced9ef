"""``xmargin backtest`` stores its run; ``runs replay`` reproduces it to the identical log."""

from __future__ import annotations

import gzip
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.app.cli import cli, main
from xmargin.app.cli_runs import db_group, report_command, runs_group
from xmargin.app.database_url import default_database_path
from xmargin.backtest.replay import replay_run
from xmargin.storage import EventStore, RunRepository, open_database

for command in (runs_group, report_command, db_group):
    if command.name not in cli.commands:
        cli.add_command(command)

ROOT = Path(__file__).resolve().parents[3]
XRP = ROOT / "examples" / "xrp_5x_long.toml"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


@needs_pack
def test_backtest_stores_its_run_in_the_embedded_database_by_default(capsys):
    code, out, _ = run(capsys, "backtest", str(XRP), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["run_id"]
    db = open_database(f"sqlite:///{default_database_path()}")
    stored = RunRepository(db).get(summary["run_id"])
    assert stored.status == "complete"
    assert stored.config_path == str(XRP)
    assert stored.config_text == XRP.read_text()
    assert stored.seed == 3
    assert stored.final_equity == Decimal(summary["final_equity"])
    assert stored.event_count == summary["events"]
    assert stored.event_log_sha256 == summary["event_log_sha256"]
    assert EventStore(db).sha256(stored.run_id) == summary["event_log_sha256"]
    assert [e["path"].split("/")[-1] for e in stored.data_manifest] == [
        "XRPUSDT_perp_5m.csv.gz", "XRPUSDT_perp_mark_1h.csv.gz", "funding_rates_8h.csv",
    ]  # fmt: skip
    counts = RunRepository(db).counts(stored.run_id)
    assert counts["fills"] == summary["fills"]
    assert counts["risk_events"] >= len(summary["liquidations"]) == 1
    daily = [
        row
        for row in RunRepository(db).snapshots(stored.run_id)
        if row["account"] == "binance.main" and row["available_balance"] is not None
    ]
    # the account's exact figures at the start of each UTC day and at the end: 1,000 USDT
    # free before the trade; nothing left after the liquidation of the evening
    assert [row["ts_ns"] // 1_000_000 for row in daily] == [
        1760054400000,
        1760140800000,
        1760227200000,
    ]
    assert (daily[0]["total_balance"], daily[0]["available_balance"]) == (Decimal(1000),) * 2
    assert daily[0]["position_notional"] == 0
    assert daily[1]["position_notional"] == 0 and daily[1]["total_balance"] < 1


@needs_pack
def test_no_db_stores_nothing(capsys):
    code, out, _ = run(capsys, "backtest", str(XRP), "--json", "--no-db")
    assert code == 0 and json.loads(out)["run_id"] is None
    assert not default_database_path().exists()


@needs_pack
def test_a_stored_run_replays_to_the_identical_event_log(db_url, capsys):
    code, out, _ = run(capsys, "backtest", str(XRP), "--json", "--db", db_url)
    summary = json.loads(out)
    outcome = replay_run(db_url, summary["run_id"])
    assert outcome.matched
    assert outcome.replayed_sha256 == outcome.stored_sha256 == summary["event_log_sha256"]
    assert outcome.replayed_events == outcome.stored_events == summary["events"]
    code, out, _ = run(capsys, "runs", "replay", summary["run_id"], "--db", db_url)
    assert code == 0
    assert out == (
        f"run {summary['run_id']} replayed: {summary['events']:,} events, event log sha256 "
        f"{summary['event_log_sha256']} — identical\n"
    )


@needs_pack
def test_a_replay_on_changed_data_reports_the_mismatch_and_the_file(tmp_path, capsys):
    data = tmp_path / "data"
    for name in ("XRPUSDT_perp_5m.csv.gz", "XRPUSDT_perp_mark_1h.csv.gz", "funding_rates_8h.csv"):
        target = data / "binance_usdm_perp" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA_PACK / "binance_usdm_perp" / name, target)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    code, out, _ = run(capsys, "backtest", str(XRP), "--json", "--db", url, "--data-dir", str(data))
    run_id = json.loads(out)["run_id"]
    bars = data / "binance_usdm_perp" / "XRPUSDT_perp_5m.csv.gz"
    lines = gzip.decompress(bars.read_bytes()).decode().splitlines()
    target_ts = "1760054400000"  # the bar whose close the example buys at
    for i, line in enumerate(lines):
        if line.startswith(target_ts + ","):
            ts, o, h, low, c, v = line.split(",")
            lines[i] = ",".join([ts, o, h, low, h if c != h else low, v])  # still valid
    bars.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    code, out, _ = run(capsys, "runs", "replay", run_id, "--db", url)
    assert code == 1
    assert f"run {run_id} replayed: MISMATCH" in out
    assert "first difference at event 0:" in out
    assert '"quantity":"1776.8"' in out and '"quantity":"1776.4"' in out
    assert f"data file changed since the run: {bars} (content changed)" in out


@needs_pack
def test_backtest_refuses_a_foreign_database_before_running(tmp_path, capsys):
    path = tmp_path / "notes.db"
    path.write_text("not a database")
    code, out, err = run(capsys, "backtest", str(XRP), "--db", str(path))
    assert code == 2 and out == ""
    assert err == (
        f"xmargin: error: {path}: not an SQLite database (another program's file?); move it "
        "away or point --db / XMARGIN_DATABASE_URL at another file\n"
    )

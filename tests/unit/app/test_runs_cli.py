"""``xmargin runs``, ``report`` and ``db``: JSON fields, comparisons, reports and upgrades."""

from __future__ import annotations

import csv
import io
import json

import pytest

from xmargin.app.cli import cli, main
from xmargin.app.cli_runs import db_group, report_command, runs_group
from xmargin.storage import ensure_schema, open_database, persist_run
from xmargin.testing.runs import sample_outcome

for command in (runs_group, report_command, db_group):
    if command.name not in cli.commands:
        cli.add_command(command)

FINAL = "9123.456789012345678901"


class Clock:
    def __init__(self, now_ns: int) -> None:
        self.now = now_ns

    def now_ns(self) -> int:
        self.now += 1_000_000_000
        return self.now


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


@pytest.fixture
def stored(db_url):
    """Two sample runs, in SQLite and in PostgreSQL: (url, older id, newer id)."""
    url = db_url
    db = open_database(url)
    older = persist_run(db, "/cfg/a.toml", "seed = 1\n", 1, sample_outcome(), name="alpha",
                        code_version="0.1.0", clock=Clock(1_767_225_600 * 10**9))  # fmt: skip
    newer = persist_run(db, "/cfg/b.toml", "seed = 2\n", 2, sample_outcome(), name="beta",
                        code_version="0.1.0", clock=Clock(1_767_229_200 * 10**9))  # fmt: skip
    return url, older, newer


def test_runs_list_json_has_the_documented_fields(stored, capsys):
    url, older, newer = stored
    code, out, _ = run(capsys, "runs", "list", "--json", "--db", url)
    assert code == 0
    listed = json.loads(out)
    assert [r["run_id"] for r in listed] == [newer, older]
    assert listed[1] == {
        "run_id": older,
        "started": "2026-01-01T00:00:01Z",
        "finished": "2026-01-01T00:00:03Z",
        "status": "complete",
        "name": "alpha",
        "config": "/cfg/a.toml",
        "seed": 1,
        "code_version": "0.1.0",
        "data_start": "2025-01-01T00:00:00Z",
        "data_end": "2025-01-03T23:55:00Z",
        "start_equity": "10000",
        "final_equity": FINAL,
        "total_return": "-0.0876543210987654321099",
        "fills": 2,
        "liquidations": 1,
        "events": 16,
        "event_log_sha256": sample_outcome().summary()["event_log_sha256"],
        "synthetic_data": [],
    }


def test_runs_list_table_and_limit(stored, capsys):
    url, older, newer = stored
    code, out, _ = run(capsys, "runs", "list", "--limit", "1", "--db", url)
    assert code == 0
    assert newer in out and older not in out and "9,123.46" in out


def test_an_empty_database_says_so(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert run(capsys, "runs", "list", "--db", url)[1] == f"no runs stored yet in {url}\n"
    assert run(capsys, "runs", "list", "--json", "--db", url)[1] == "[]\n"


def test_runs_show_resolves_a_prefix_and_last(stored, capsys):
    url, older, newer = stored
    code, out, _ = run(capsys, "runs", "show", older[:18], "--json", "--db", url)
    shown = json.loads(out)
    assert code == 0 and shown["run_id"] == older
    assert shown["rows"]["fills"] == 2 and shown["rows"]["events"] == 16
    assert (
        json.loads(run(capsys, "runs", "show", "last", "--json", "--db", url)[1])["run_id"] == newer
    )


def test_an_unknown_or_ambiguous_run_is_one_line_with_exit_2(stored, capsys):
    url, _, _ = stored
    code, _, err = run(capsys, "runs", "show", "nope", "--db", url)
    assert (code, err) == (
        2,
        "xmargin: error: RUN: no run 'nope' in the database (see `xmargin runs list`)\n",
    )
    code, _, err = run(capsys, "runs", "show", "2026", "--db", url)
    assert code == 2 and "is ambiguous" in err


def test_runs_compare_sets_runs_side_by_side(stored, capsys):
    url, older, newer = stored
    code, out, _ = run(capsys, "runs", "compare", older, newer, "--json", "--db", url)
    compared = json.loads(out)
    assert code == 0
    assert [c["run_id"] for c in compared] == [older, newer]
    assert [c["seed"] for c in compared] == [1, 2]
    assert {c["final_equity"] for c in compared} == {FINAL}
    assert compared[0]["fees_paid"] == "32.911725" and compared[0]["max_drawdown"] == 0.2
    code, out, _ = run(capsys, "runs", "compare", older, newer, "--db", url)
    assert code == 0
    for text in (older, newer, "final equity", "9,123.46", "max drawdown", "20.00 %", "alpha"):
        assert text in out


def test_comparing_one_run_is_refused(stored, capsys):
    url, older, _ = stored
    code, _, err = run(capsys, "runs", "compare", older, "--db", url)
    assert (code, err) == (2, "xmargin: error: runs compare: give at least two runs to compare\n")


def test_report_csv_is_the_exact_trade_list(stored, capsys):
    url, older, _ = stored
    code, out, _ = run(capsys, "report", older, "--format", "csv", "--db", url)
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0
    assert rows == [
        ["time_utc", "account", "strategy", "instrument", "side", "quantity", "price",
         "notional", "fee", "fee_asset", "liquidity", "realized_pnl", "client_order_id",
         "trade_id"],
        ["2025-01-01 01:00:00", "binance.main", "sma", "BTC/USDT:USDT", "buy", "0.5",
         "93646.7", "46823.35", "23.411675", "USDT", "taker", "0", "O-1", "T-O-1"],
        ["2025-01-01 12:00:00", "binance.main", "sma", "BTC/USDT:USDT", "sell", "0.2",
         "95000.5", "19000.1", "9.50005", "USDT", "taker", "270.76", "O-3", "T-O-3"],
    ]  # fmt: skip


def test_report_json_splits_pnl_exactly(stored, capsys):
    url, older, _ = stored
    code, out, _ = run(capsys, "report", older, "--format", "json", "--db", url)
    report = json.loads(out)
    assert code == 0
    assert report["pnl_split"] == {
        "trading": "-825.427276787654321099",
        "fees": "-32.911725",
        "funding": "-4.700005",
        "interest": "-0.0041667",
        "liquidation_fees": "-13.5000375",
    }
    assert report["monthly_returns"] == [{"month": "2025-01", "return": -0.0876543211}]
    assert [m["kind"] for m in report["markers"]] == ["breaker", "liquidation"]
    assert report["instruments"][0]["net"] == "233.14827"
    assert [e["type"] for e in report["risk_events"]] == [
        "OrderDenied", "BreakerTripped", "TradingStateChanged", "Liquidated",
    ]  # fmt: skip


def test_report_html_is_self_contained(stored, capsys, tmp_path):
    url, older, _ = stored
    page = tmp_path / "out" / "report.html"
    code, out, err = run(capsys, "report", older, "--html", str(page), "--db", url)
    assert code == 0 and err == f"wrote {page}\n"
    assert "PnL split" in out and "-825.427276787654321099" in out
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "<link", "http://", "https://", "@import", "url("):
        assert forbidden not in html
    for expected in (
        "Equity (USDT)", "Drawdown from peak (%)", "Margin ratio", "Leverage", "PnL by source",
        "Monthly returns", "By strategy", "By instrument", "Risk events", "Trades (2 fills)",
        "liquidation: BTC/USDT:USDT 0.3 @ 90000.25", "breaker max_drawdown: halted",
        "date (UTC)", "O-3",
    ):  # fmt: skip
        assert expected in html
    assert html.count("<svg") == 5


def test_db_upgrade_creates_upgrades_and_then_has_nothing_to_do(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    ensure_schema(open_database(url, migrate=False), "0001")
    assert (
        run(capsys, "db", "status", "--json", "--db", url)[1]
        == json.dumps({"url": url, "revision": "0001", "head": "0003", "runs": None}, indent=2)
        + "\n"
    )
    code, out, _ = run(capsys, "db", "upgrade", "--db", url)
    assert (code, out) == (0, f"{url}: upgraded the schema from revision 0001 to 0003\n")
    code, out, _ = run(capsys, "db", "upgrade", "--db", url)
    assert out == f"{url}: schema already at revision 0003 (the newest)\n"
    fresh = f"sqlite:///{tmp_path / 'new.db'}"
    assert run(capsys, "db", "upgrade", "--db", fresh)[1] == (
        f"{fresh}: created the schema at revision 0003\n"
    )

"""``xmargin data import|list|download``: tables, JSON, exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest

from xmargin.app import cli as cli_module
from xmargin.app import cli_data
from xmargin.data.catalog import Catalog

T0 = 1_735_603_200_000
DAY = 86_400_000
SYMBOL = "BTC/USDT:USDT"


@pytest.fixture
def run(monkeypatch, capsys):
    """Run ``xmargin ARGS`` through the real ``main`` with the data group registered."""
    monkeypatch.setitem(cli_module.cli.commands, "data", cli_data.data)

    def invoke(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            cli_module.main([*map(str, args)])
            raise SystemExit(0)
        captured = capsys.readouterr()
        return exited.value.code or 0, captured.out, captured.err

    return invoke


def table_rows(out: str) -> list[list[str]]:
    """Return the cells of each body row of a Rich table."""
    rows = []
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) > 3:
            rows.append(cells)
    return rows


def test_import_prints_rows_range_and_gaps_per_series_and_stores_them(run, pack, tmp_path):
    code, out, err = run(
        "data",
        "import",
        pack / "binance_usdm_perp/BTCUSDT_perp_mark_1h.csv.gz",
        pack / "binance_usdm_perp/funding_rates_8h.csv",
        "--catalog",
        tmp_path,
    )
    assert (code, err) == (0, "")
    assert f"imported into {tmp_path}" in out
    assert table_rows(out) == [
        [
            "BTCUSDT_perp_mark_1h.csv.gz",
            "binanceusdm",
            SYMBOL,
            "mark",
            "1h",
            "9,981",
            "2024-12-31 00:00",
            "2026-02-19 20:00",
            "none",
        ],
        *(
            [
                "funding_rates_8h.csv",
                "binanceusdm",
                f"{base}/USDT:USDT",
                "funding",
                "",
                "1,247",
                "2024-12-31 00:00",
                "2026-02-19 08:00",
                "none",
            ]
            for base in ("BTC", "ETH", "SOL", "XRP")
        ),
    ]
    assert [(e.symbol, e.kind, e.rows) for e in Catalog(tmp_path).entries()] == [
        (SYMBOL, "funding", 1247),
        (SYMBOL, "mark", 9981),
        ("ETH/USDT:USDT", "funding", 1247),
        ("SOL/USDT:USDT", "funding", 1247),
        ("XRP/USDT:USDT", "funding", 1247),
    ]


def test_import_lists_the_gaps_it_finds(run, pack, tmp_path):
    path = pack / "second_venue/hyperliquid_funding_1h.csv.gz"
    code, out, _ = run("data", "import", path, "--symbol", "BTC/USDC:USDC", "--catalog", tmp_path)
    assert code == 0
    assert table_rows(out)[0][-1] == "3 (3 missing)"
    assert (
        "gaps in hyperliquid_funding_1h.csv.gz BTC/USDC:USDC: 2023-07-02 20:00 (1), "
        "2023-08-23 20:00 (1), 2024-08-15 13:00 (1)"
    ) in out


def test_import_of_an_unrecognised_name_asks_for_venue_symbol_and_kind(run, pack, tmp_path):
    path = pack / "stablecoins/usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv"
    code, out, err = run("data", "import", path, "--catalog", tmp_path)
    assert (code, out) == (2, "")
    assert err == (
        f"xmargin: error: {path}: cannot tell the venue, kind, symbol from the file name;"
        " pass --venue, --kind, --symbol\n"
    )


def test_import_of_inconsistent_ohlc_fails_with_row_and_field_and_stores_nothing(
    run, pack, tmp_path
):
    path = pack / "stablecoins/usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv"
    options = (
        "--venue",
        "unknown",
        "--symbol",
        "USDC/USD",
        "--kind",
        "ohlcv",
        "--catalog",
        tmp_path,
    )
    code, out, err = run("data", "import", path, *options)
    assert (code, out) == (2, "")
    assert err == (
        f"xmargin: error: {path}, row 4, high: 0.997005332383127 is below max(open, close)"
        " 0.997013103483469 (first of 434 bad rows)\n"
    )
    assert Catalog(tmp_path).entries() == []


def test_import_with_repair_reports_repaired_rows_and_gaps(run, pack, tmp_path):
    path = pack / "stablecoins/usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv"
    options = (
        "--venue",
        "unknown",
        "--symbol",
        "USDC/USD",
        "--kind",
        "ohlcv",
        "--catalog",
        tmp_path,
    )
    code, out, _ = run("data", "import", path, *options, "--repair")
    assert code == 0
    [row] = table_rows(out)
    assert row[4:] == [
        "15m",
        "808",
        "2023-03-09 05:00",
        "2023-03-18 23:45",
        "88 (132 missing)",
        "434",
    ]
    assert "high: raised to max(open, close): rows 4, 6, 13, 14" in out
    assert Catalog(tmp_path).last_timestamp("unknown", "USDC/USD", "ohlcv", "15m") == 1679183100000


def test_import_of_a_missing_file_is_one_line_exit_2(run, tmp_path):
    code, _, err = run("data", "import", tmp_path / "BTCUSDT_perp_5m.csv.gz", "--catalog", tmp_path)
    assert code == 2
    assert err.startswith(
        f"xmargin: error: {tmp_path / 'BTCUSDT_perp_5m.csv.gz'}: cannot read the file"
    )


def test_list_says_when_the_catalog_is_empty(run, tmp_path):
    assert run("data", "list", "--catalog", tmp_path) == (
        0,
        f"the catalog at {tmp_path} is empty\n",
        "",
    )


def test_list_shows_a_table_and_json(run, pack, tmp_path):
    run(
        "data",
        "import",
        pack / "binance_usdm_perp/BTCUSDT_perp_mark_1h.csv.gz",
        "--catalog",
        tmp_path,
    )
    code, out, _ = run("data", "list", "--catalog", tmp_path)
    assert code == 0
    assert table_rows(out) == [
        [
            "binanceusdm",
            SYMBOL,
            "mark",
            "1h",
            "9,981",
            "2024-12-31 00:00",
            "2026-02-19 20:00",
            "binanceusdm/BTC_USDT-USDT/mark/1h.parquet",
        ],
    ]
    code, out, _ = run("data", "list", "--catalog", tmp_path, "--json")
    assert json.loads(out) == [
        {
            "venue": "binanceusdm",
            "symbol": SYMBOL,
            "kind": "mark",
            "timeframe": "1h",
            "rows": 9981,
            "first_ms": 1735603200000,
            "last_ms": 1771531200000,
            "first": "2024-12-31T00:00:00Z",
            "last": "2026-02-19T20:00:00Z",
            "path": str(tmp_path / "binanceusdm/BTC_USDT-USDT/mark/1h.parquet"),
        }
    ]


def test_download_pages_through_the_injected_exchange_into_the_catalog(
    run, fake_exchange_module, monkeypatch, tmp_path
):
    made: list = []

    def factory(exchange_id: str):
        made.append(fake_exchange_module.FakeExchange(page_limit=100))
        assert exchange_id == "binanceusdm"
        return made[-1]

    monkeypatch.setattr(cli_data, "EXCHANGE_FACTORY", factory)
    code, out, _ = run(
        "data",
        "download",
        "--exchange",
        "binanceusdm",
        "--symbol",
        SYMBOL,
        "--since",
        "2024-12-31",
        "--until",
        "2025-01-01",
        "--kinds",
        "ohlcv:5m,funding",
        "--limit",
        "100",
        "--catalog",
        tmp_path,
    )
    assert code == 0
    assert table_rows(out) == [
        ["ohlcv:5m", "288", "3", "2024-12-31 00:00", "2024-12-31 23:55"],
        ["funding", "3", "1", "2024-12-31 00:00", "2024-12-31 16:00"],
    ]
    assert [c.since for c in made[0].calls] == [T0, T0 + 100 * 300_000, T0 + 200 * 300_000, T0]
    entries = Catalog(tmp_path).entries()
    assert [(e.kind, e.timeframe, e.rows) for e in entries] == [
        ("funding", None, 3),
        ("ohlcv", "5m", 288),
    ]


def test_download_with_bad_kinds_is_one_line_exit_2(
    run, fake_exchange_module, monkeypatch, tmp_path
):
    monkeypatch.setattr(cli_data, "EXCHANGE_FACTORY", lambda _: fake_exchange_module.FakeExchange())
    code, out, err = run(
        "data",
        "download",
        "--exchange",
        "binanceusdm",
        "--symbol",
        SYMBOL,
        "--since",
        "2024-12-31",
        "--kinds",
        "ohlcv",
        "--catalog",
        tmp_path,
    )
    assert (code, out) == (2, "")
    assert err == "xmargin: error: kinds: ohlcv needs a timeframe, e.g. ohlcv:5m\n"


def test_download_with_a_malformed_date_is_a_usage_error(run, tmp_path):
    code, _, err = run(
        "data",
        "download",
        "--exchange",
        "binanceusdm",
        "--symbol",
        SYMBOL,
        "--since",
        "31.12.2024",
        "--kinds",
        "funding",
        "--catalog",
        tmp_path,
    )
    assert code == 2
    assert err == (
        "xmargin data download: invalid value for '--since': '31.12.2024' does not match the"
        " format '%Y-%m-%d' (try 'xmargin data download --help')\n"
    )


def test_an_interrupted_download_exits_1_and_resumes_on_the_next_run(
    run, fake_exchange_module, monkeypatch, tmp_path
):
    exchanges = iter(
        [
            fake_exchange_module.FakeExchange(page_limit=100, fail_on_call=2),
            fake_exchange_module.FakeExchange(page_limit=100),
        ]
    )
    monkeypatch.setattr(cli_data, "EXCHANGE_FACTORY", lambda _: next(exchanges))
    args = (
        "data",
        "download",
        "--exchange",
        "binanceusdm",
        "--symbol",
        SYMBOL,
        "--since",
        "2024-12-31",
        "--until",
        "2025-01-01",
        "--kinds",
        "ohlcv:5m",
        "--limit",
        "100",
        "--catalog",
        tmp_path,
    )
    code, _, err = run(*args)
    assert code == 1
    assert err.endswith("connection reset by peer; run again to resume\n")
    assert Catalog(tmp_path).entries()[0].rows == 100
    code, out, _ = run(*args)
    assert code == 0
    assert table_rows(out) == [["ohlcv:5m", "188", "2", "2024-12-31 08:20", "2024-12-31 23:55"]]
    assert Catalog(tmp_path).entries()[0].rows == 288

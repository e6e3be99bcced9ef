"""Every format of the real data pack loads with the README's row counts, rows and gaps."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from xmargin.core.errors import DataError
from xmargin.data.loaders import load_file, read_funding_by_symbol, read_ohlcv
from xmargin.data.series import FundingSeries, OhlcvSeries, QuoteSeries, TradeSeries
from xmargin.data.validation import Gap, gap_report


def utc_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def bar(series: OhlcvSeries, i: int) -> tuple[float, ...]:
    return (
        int(series.ts_ms[i]),
        *(float(getattr(series, c)[i]) for c in ("open", "high", "low", "close", "volume")),
    )


BAR_FILES = [
    (
        "binance_usdm_perp/BTCUSDT_perp_5m.csv.gz",
        ("binanceusdm", "BTC/USDT:USDT", "ohlcv", "5m"),
        119_724,
        (1735603200000, 92759.3, 92819.7, 92680.3, 92755.5, 547.689),
        (1771520100000, 66392.0, 66417.0, 66242.8, 66267.6, 238.594),
    ),
    (
        "binance_usdm_perp/BTCUSDT_perp_mark_1h.csv.gz",
        ("binanceusdm", "BTC/USDT:USDT", "mark", "1h"),
        9_981,
        (1735603200000, 92760.05741135, 92875.4, 92355.0, 92424.4, 0.0),
        (1771531200000, 67022.9, 67143.2, 66809.6, 67086.8, 0.0),
    ),
    (
        "binance_spot/BTCUSDT_spot_5m.csv.gz",
        ("binance", "BTC/USDT", "ohlcv", "5m"),
        119_784,
        (1735603200000, 92792.05, 92848.01, 92706.02, 92782.39, 51.41651),
        (1771538100000, 66918.08, 66938.73, 66900.92, 66916.51, 21.9542),
    ),
    (
        "stablecoins/binance_spot_USDCUSDT_5m.csv.gz",
        ("binance", "USDC/USDT", "ohlcv", "5m"),
        48_513,
        (1735689600000, 1.002, 1.0023, 1.0019, 1.0022, 9251778.0),
        (1750243200000, 0.9997, 0.9998, 0.9997, 0.9997, 4265074.0),
    ),
    (
        "second_venue/bybit_BTCUSDT_perp_15m.csv.gz",
        ("bybit", "BTC/USDT:USDT", "ohlcv", "15m"),
        35_569,
        (1735603200000, 92739.3, 92850.0, 92648.0, 92779.0, 622.087),
        (1767614400000, 93103.6, 93160.0, 93010.7, 93111.3, 363.523),
    ),
    (
        "second_venue/bybit_BTCUSDT_perp_mark_1h.csv.gz",
        ("bybit", "BTC/USDT:USDT", "mark", "1h"),
        18_805,
        (1702857600000, 41390.46, 41477.88, 41202.96, 41387.49, 0.0),
        (1770552000000, 70953.71, 71235.1, 70665.36, 71209.12, 0.0),
    ),
    (
        "second_venue/hyperliquid_BTCUSDC_perp_5m.csv.gz",
        ("hyperliquid", "BTC/USDC:USDC", "ohlcv", "5m"),
        38_531,
        (1741946400000, 82765.0, 82817.0, 82697.0, 82699.0, 24.16464),
        (1753505400000, 117523.0, 117525.0, 117480.0, 117524.0, 28.9924),
    ),
    (
        "second_venue/okx_BTCUSDT_swap_mark_1h.csv.gz",
        ("okx", "BTC/USDT:USDT", "mark", "1h"),
        32_545,
        (1651363200000, 37631.5, 37807.8, 37488.0, 37678.8, 0.0),
        (1768521600000, 95570.9, 95787.1, 95536.8, 95590.3, 0.0),
    ),
    (
        "ftx/ftx_spot_BTCUSD_1h.csv.gz",
        ("ftx", "BTC/USD", "ohlcv", "1h"),
        26_333,
        (1563714000000, 10529.0, 10593.5, 10492.0, 10535.5, 1.0529),
        (1658516400000, 23026.0, 23134.0, 22551.0, 22593.0, 52244578.6626),
    ),
    (
        "stablecoin_depegs/kucoin_spot_USDCUSDT_1m_2023-02-18_2023-03-21.csv.gz",
        ("kucoin", "USDC/USDT", "ohlcv", "1m"),
        44_319,
        (1676716320000, 0.99972, 0.99972, 0.99971, 0.99972, 3439.4391),
        (1679375400000, 0.99647, 0.99647, 0.99646, 0.99647, 1807.8656),
    ),
]


@pytest.mark.parametrize(
    ("path", "key", "rows", "first", "last"), BAR_FILES, ids=[f[0] for f in BAR_FILES]
)
def test_bar_and_mark_files_load_with_exact_rows(pack, path, key, rows, first, last):
    [loaded] = load_file(pack / path)
    assert (loaded.venue, loaded.symbol, loaded.kind, loaded.timeframe) == key
    series = loaded.series
    assert isinstance(series, OhlcvSeries)
    assert len(series) == rows
    assert bar(series, 0) == first
    assert bar(series, -1) == last
    assert series.source == str(pack / path)
    assert loaded.report.repairs == ()


def test_ftx_candles_mark_their_volume_as_quote_currency(pack):
    series, _ = read_ohlcv(pack / "ftx/ftx_spot_BTCUSD_1h.csv.gz")
    assert series.volume_is_quote
    perp, _ = read_ohlcv(pack / "binance_usdm_perp/BTCUSDT_perp_5m.csv.gz")
    assert not perp.volume_is_quote


FUNDING_FILES = [
    (
        "binance_usdm_perp/funding_rates_8h.csv",
        "binanceusdm",
        {
            "BTC/USDT:USDT": 1247,
            "ETH/USDT:USDT": 1247,
            "SOL/USDT:USDT": 1247,
            "XRP/USDT:USDT": 1247,
        },
        ((1735603200000, 0.0001, 8), (1771488000000, 2.686e-05, 8)),
    ),
    (
        "second_venue/bybit_linear_funding_8h.csv",
        "bybit",
        {"BTC/USDT:USDT": 2349, "ETH/USDT:USDT": 2349, "SOL/USDT:USDT": 2349},
        ((1702886400000, 0.0001, 8), (1770508800000, 6.51e-06, 8)),
    ),
    (
        "second_venue/okx_swap_funding_8h.csv",
        "okx",
        {"BTC/USDT:USDT": 284, "ETH/USDT:USDT": 284, "SOL/USDT:USDT": 284, "XRP/USDT:USDT": 284},
        ((1760342400000, 7.73188132622e-05, 8), (1768492800000, 2.4679232452e-05, 8)),
    ),
    (
        "second_venue/hyperliquid_funding_1h.csv.gz",
        "hyperliquid",
        {
            "BTC/USDC:USDC": 18778,
            "ETH/USDC:USDC": 18778,
            "SOL/USDC:USDC": 18778,
            "XRP/USDC:USDC": 18458,
        },
        ((1683849600000, -0.0006133368, 8), (1753498800000, 3.09605e-05, 1)),
    ),
    (
        "ftx/ftx_BTC-PERP_funding_1h_INFERRED.csv",
        "ftx",
        {"BTC/USD:USD": 9155},
        ((1613239200000, 1.3e-05, 1), (1646193600000, None, 1)),
    ),
    (
        "ftx/binance_BTCUSDT_funding_8h_2019-2022_INFERRED_ROUNDED.csv",
        "binanceusdm",
        {"BTC/USDT:USDT": 2722},
        ((1568131200000, 0.0001, 8), (1646496000000, None, 8)),
    ),
]


@pytest.mark.parametrize(
    ("path", "venue", "counts", "btc_ends"), FUNDING_FILES, ids=[f[0] for f in FUNDING_FILES]
)
def test_funding_files_split_into_one_series_per_symbol(pack, path, venue, counts, btc_ends):
    loaded = load_file(pack / path)
    assert {item.symbol: len(item.series) for item in loaded} == counts
    assert {(item.venue, item.kind, item.timeframe) for item in loaded} == {
        (venue, "funding", None)
    }
    btc = next(item.series for item in loaded if item.symbol.startswith("BTC/"))
    assert isinstance(btc, FundingSeries)
    for index, (ts, rate, hours) in zip((0, -1), btc_ends, strict=True):
        assert int(btc.ts_ms[index]) == ts
        assert int(btc.interval_h[index]) == hours
        if rate is not None:
            assert float(btc.rate[index]) == rate


def test_funding_file_can_be_filtered_to_one_symbol_by_native_or_ccxt_name(pack):
    [eth] = load_file(pack / "binance_usdm_perp/funding_rates_8h.csv", symbol="ETHUSDT")
    assert (eth.symbol, len(eth.series)) == ("ETH/USDT:USDT", 1247)
    with pytest.raises(DataError, match=r"symbol: no rows for DOGE/USDT:USDT; the file has BTC/"):
        load_file(pack / "binance_usdm_perp/funding_rates_8h.csv", symbol="DOGE/USDT:USDT")


def test_hyperliquid_switched_from_8h_to_hourly_funding_on_2023_06_08(pack):
    by_symbol = read_funding_by_symbol(pack / "second_venue/hyperliquid_funding_1h.csv.gz")
    btc, _ = by_symbol["BTC/USDC:USDC"]
    assert int((btc.interval_h == 8).sum()) == 82
    assert int(btc.ts_ms[btc.interval_h == 1][0]) == utc_ms("2023-06-08T01:00")


def test_hyperliquid_funding_misses_the_same_three_hourly_settlements_for_every_symbol(pack):
    by_symbol = read_funding_by_symbol(pack / "second_venue/hyperliquid_funding_1h.csv.gz")
    hour = 3_600_000
    expected = [
        Gap(utc_ms(start), utc_ms(start) + hour, 1)
        for start in ("2023-07-02T20:00", "2023-08-23T20:00", "2024-08-15T13:00")
    ]
    assert sorted(by_symbol) == ["BTC/USDC:USDC", "ETH/USDC:USDC", "SOL/USDC:USDC", "XRP/USDC:USDC"]
    for series, _ in by_symbol.values():
        assert gap_report(series) == expected


@pytest.mark.parametrize(
    "path",
    [
        *(f"binance_usdm_perp/{b}USDT_perp_5m.csv.gz" for b in ("BTC", "ETH", "SOL", "XRP")),
        *(f"binance_usdm_perp/{b}USDT_perp_mark_1h.csv.gz" for b in ("BTC", "ETH", "SOL", "XRP")),
        "binance_usdm_perp/funding_rates_8h.csv",
    ],
)
def test_binance_perp_candles_mark_and_funding_have_no_gaps(pack, path):
    for loaded in load_file(pack / path):
        assert gap_report(loaded.series) == []


def test_ftx_btc_usd_misses_two_hours_on_2019_07_26(pack):
    series, _ = read_ohlcv(pack / "ftx/ftx_spot_BTCUSD_1h.csv.gz")
    assert gap_report(series) == [Gap(utc_ms("2019-07-26T02:00"), utc_ms("2019-07-26T04:00"), 2)]


def test_supplementary_1m_series_loads_with_explicit_venue_and_symbol_and_has_no_gaps(pack):
    path = pack / "supplementary/btc_perp_1m_2021-12-31_2022-02-01_venue-undocumented.csv.gz"
    [loaded] = load_file(path, venue="unknown", symbol="BTC/USDT:USDT", kind="ohlcv")
    assert (loaded.timeframe, len(loaded.series)) == ("1m", 45_031)
    assert loaded.series.first_ms == utc_ms("2021-12-31T23:01")
    assert gap_report(loaded.series) == []


def test_unverified_usdc_15m_file_is_rejected_at_its_first_ohlc_violation(pack):
    path = pack / "stablecoins/usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv"
    with pytest.raises(DataError) as raised:
        read_ohlcv(path)
    assert (raised.value.row, raised.value.field) == (4, "high")
    assert str(raised.value) == (
        f"{path}, row 4, high: 0.997005332383127 is below max(open, close) 0.997013103483469"
        " (first of 434 bad rows)"
    )


def test_unverified_usdc_15m_file_repairs_434_rows_and_has_88_gaps(pack):
    path = pack / "stablecoins/usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv"
    series, report = read_ohlcv(path, repair=True)
    assert (report.rows_in, report.rows_out, report.repaired_rows) == (808, 808, 434)
    assert [(r.field, len(r.rows)) for r in report.repairs] == [("high", 232), ("low", 202)]
    assert bool(np.all(series.high >= np.maximum(series.open, series.close)))
    gaps = gap_report(series)
    assert (len(gaps), sum(g.missing_bars for g in gaps)) == (88, 132)
    assert round(float(series.low.min()), 4) == 0.8994


TICK_FILES = [
    ("hftbacktest_binance_usdm_BTCUSDT_trades_2024-08-08.csv.gz", "trades", 21_313),
    ("hftbacktest_binance_usdm_BTCUSDT_bbo_2024-08-08.csv.gz", "quotes", 66_089),
    ("hftbacktest_binance_usdm_ETHUSDT_trades_2024-08-08.csv.gz", "trades", 14_076),
    ("hftbacktest_binance_usdm_ETHUSDT_bbo_2024-08-08.csv.gz", "quotes", 53_992),
    ("hftbacktest_binance_spot_BTCUSDT_trades_2024-08-08.csv.gz", "trades", 9_757),
    ("hftbacktest_binance_spot_BTCUSDT_bbo_2024-08-08.csv.gz", "quotes", 28_040),
    ("binance_spot_BTCUSDT_trades_2021-01-08.csv", "trades", 2_001),
    ("binance_spot_BTCUSDT_quotes_2021-01-08.csv", "quotes", 451),
]


@pytest.mark.parametrize(("name", "kind", "rows"), TICK_FILES, ids=[f[0] for f in TICK_FILES])
def test_trade_and_quote_files_load_with_exact_rows(pack, name, kind, rows):
    [loaded] = load_file(pack / "ticks_orderbook" / name)
    assert loaded.kind == kind
    assert len(loaded.series) == rows
    assert isinstance(loaded.series, TradeSeries if kind == "trades" else QuoteSeries)


def test_hftbacktest_perp_trades_and_quotes_first_and_last_rows(pack):
    base = pack / "ticks_orderbook"
    [trades] = load_file(base / "hftbacktest_binance_usdm_BTCUSDT_trades_2024-08-08.csv.gz")
    t = trades.series
    assert isinstance(t, TradeSeries)
    assert (int(t.ts_ms[0]), float(t.price[0]), float(t.qty[0]), bool(t.buyer_is_maker[0])) == (
        1723161256322,
        61800.3,
        0.006,
        False,
    )
    assert (int(t.ts_ms[-1]), float(t.price[-1]), float(t.qty[-1])) == (
        1723161599643,
        61659.8,
        0.076,
    )
    [quotes] = load_file(base / "hftbacktest_binance_usdm_BTCUSDT_bbo_2024-08-08.csv.gz")
    q = quotes.series
    assert isinstance(q, QuoteSeries)
    first = (
        int(q.ts_ms[0]),
        float(q.bid[0]),
        float(q.bid_qty[0]),
        float(q.ask[0]),
        float(q.ask_qty[0]),
    )
    assert first == (1723161256313, 61800.2, 2.507, 61800.3, 2.51)
    assert float(q.ask[-1]) == 61659.8


def test_taker_side_trades_need_explicit_venue_and_map_sell_to_buyer_is_maker(pack):
    path = pack / "ticks_orderbook/ETHUSDT_trades_2023-02-02_1000.csv"
    [loaded] = load_file(path, venue="binanceusdm", symbol="ETH/USDT:USDT", kind="trades")
    series = loaded.series
    assert isinstance(series, TradeSeries)
    assert len(series) == 1000
    assert series.buyer_is_maker[:2].tolist() == [False, True]
    assert (float(series.price[0]), float(series.qty[0])) == (1666.8, 26.062)

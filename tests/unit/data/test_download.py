"""Downloads page through ccxt's unified methods, store each page, and resume after a crash."""

from __future__ import annotations

import ccxt
import numpy as np
import pytest

from xmargin.core.clock import SimClock, ms_to_ns
from xmargin.core.errors import ConfigError, TerminalVenueError, TransientVenueError
from xmargin.data.catalog import Catalog
from xmargin.data.download import (
    DownloadProgress,
    DownloadResult,
    KindSpec,
    download,
    make_exchange,
    parse_kinds,
)
from xmargin.data.series import FundingSeries, OhlcvSeries

T0 = 1_735_603_200_000  # 2024-12-31 00:00 UTC, the pack's first bar
K = 300_000
H = 3_600_000
DAY = 24 * H
SYMBOL = "BTC/USDT:USDT"


@pytest.fixture
def fake(fake_exchange_module):
    return fake_exchange_module


def source_bars(fake, file_name: str, start: int, end: int) -> list[tuple]:
    return [row for row in fake.candle_rows(file_name) if start <= row[0] < end]


def stored_bars(catalog: Catalog, kind: str, timeframe: str) -> list[tuple]:
    series = catalog.load("binanceusdm", SYMBOL, kind, timeframe)
    assert isinstance(series, OhlcvSeries)
    columns = [series.ts_ms, series.open, series.high, series.low, series.close, series.volume]
    return [(int(r[0]), *map(float, r[1:])) for r in zip(*columns, strict=True)]


def test_parse_kinds_reads_kinds_and_timeframes():
    assert parse_kinds("ohlcv:5m,funding,mark:1h, index:1h") == [
        KindSpec("ohlcv", "5m"),
        KindSpec("funding"),
        KindSpec("mark", "1h"),
        KindSpec("index", "1h"),
    ]
    assert [spec.label for spec in parse_kinds(["funding", "mark:1h"])] == ["funding", "mark:1h"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ohlcv", "kinds: ohlcv needs a timeframe, e.g. ohlcv:5m"),
        ("funding,mark", "kinds: mark needs a timeframe, e.g. mark:5m"),
        (
            "candles:5m",
            "kinds: unknown kind 'candles:5m'; use ohlcv:<tf>, mark:<tf>, index:<tf> or funding",
        ),
        ("funding:8h", "kinds: funding takes no timeframe; write just 'funding'"),
        ("ohlcv:5x", "unknown timeframe '5x'"),
        ([], "kinds: no kinds given; e.g. ohlcv:5m,funding"),
    ],
)
def test_bad_kinds_are_config_errors(text, message):
    with pytest.raises(ConfigError) as raised:
        parse_kinds(text)
    assert str(raised.value).startswith(message)


def test_ohlcv_pages_advance_by_the_last_bar_plus_one_until_the_end(fake, tmp_path):
    exchange = fake.FakeExchange(page_limit=100)
    catalog = Catalog(tmp_path)
    [result] = download(exchange, SYMBOL, T0, "ohlcv:5m", catalog, until_ms=T0 + DAY, limit=100)
    assert [
        (c.method, c.symbol, c.timeframe, c.since, c.limit, c.params) for c in exchange.calls
    ] == [
        ("fetch_ohlcv", SYMBOL, "5m", T0, 100, {}),
        ("fetch_ohlcv", SYMBOL, "5m", T0 + 100 * K, 100, {}),
        ("fetch_ohlcv", SYMBOL, "5m", T0 + 200 * K, 100, {}),
    ]
    assert result == DownloadResult("ohlcv:5m", T0, T0 + DAY, 288, 3, T0, T0 + DAY - K)
    assert stored_bars(catalog, "ohlcv", "5m") == source_bars(
        fake, "BTCUSDT_perp_5m.csv.gz", T0, T0 + DAY
    )


def test_a_short_page_ends_the_download_when_the_page_size_is_known(fake, tmp_path):
    exchange = fake.FakeExchange(page_limit=50)
    [result] = download(exchange, SYMBOL, T0, "ohlcv:5m", Catalog(tmp_path), T0 + DAY, limit=100)
    assert (len(exchange.calls), result.rows) == (1, 50)


def test_ccxt_features_give_the_page_size_when_none_is_asked(fake, tmp_path):
    exchange = fake.FakeExchange(page_limit=500)
    exchange.features = {"swap": {"linear": {"fetchOHLCV": {"limit": 120}}}}
    [result] = download(exchange, SYMBOL, T0, "ohlcv:5m", Catalog(tmp_path), T0 + DAY)
    assert [c.limit for c in exchange.calls] == [120, 120, 120]
    assert result.rows == 288


def test_only_complete_bars_are_stored_when_the_end_is_now(fake, tmp_path):
    clock = SimClock(ms_to_ns(T0 + 3 * K + 1))
    [result] = download(fake.FakeExchange(), SYMBOL, T0, "ohlcv:5m", Catalog(tmp_path), clock=clock)
    assert (result.rows, result.last_ms, result.end_ms) == (3, T0 + 2 * K, T0 + 3 * K + 1)


def test_mark_prices_use_the_price_param_and_store_zero_volume(fake, tmp_path):
    exchange = fake.FakeExchange(page_limit=1000)
    catalog = Catalog(tmp_path)
    [result] = download(exchange, SYMBOL, T0, ["mark:1h"], catalog, until_ms=T0 + 2 * DAY)
    assert exchange.calls[0].params == {"price": "mark"}
    assert result.rows == 48
    stored = stored_bars(catalog, "mark", "1h")
    assert stored == source_bars(fake, "BTCUSDT_perp_mark_1h.csv.gz", T0, T0 + 2 * DAY)
    assert stored[0] == (1735603200000, 92760.05741135, 92875.4, 92355.0, 92424.4, 0.0)


def test_funding_pages_advance_by_one_millisecond_and_store_the_interval(fake, tmp_path):
    exchange = fake.FakeExchange(page_limit=8)
    catalog = Catalog(tmp_path)
    [result] = download(exchange, SYMBOL, T0, "funding", catalog, until_ms=T0 + 10 * DAY, limit=8)
    last_of_page = [T0 + (8 * page - 1) * 8 * H for page in (1, 2, 3)]
    assert [c.since for c in exchange.calls] == [T0, *(ts + 1 for ts in last_of_page)]
    assert {c.method for c in exchange.calls} == {"fetch_funding_rate_history"}
    assert (result.rows, result.pages, result.last_ms) == (30, 4, T0 + 29 * 8 * H)
    stored = catalog.load("binanceusdm", SYMBOL, "funding")
    assert isinstance(stored, FundingSeries)
    expected = [(ts, rate) for ts, rate, _ in fake.funding_rows(SYMBOL) if ts < T0 + 10 * DAY]
    assert list(zip(stored.ts_ms.tolist(), stored.rate.tolist(), strict=True)) == expected
    assert set(stored.interval_h.tolist()) == {8}


def test_funding_without_a_known_page_size_runs_until_a_page_brings_nothing_new(fake, tmp_path):
    last = fake.funding_rows(SYMBOL)[-1][0]  # 2026-02-19 08:00, the end of the pack
    exchange = fake.FakeExchange(page_limit=500)
    catalog = Catalog(tmp_path)
    [result] = download(exchange, SYMBOL, last - 2 * DAY, "funding", catalog, last + 10 * DAY)
    assert [c.since for c in exchange.calls] == [last - 2 * DAY, last + 1]
    assert (result.rows, result.last_ms) == (7, last)


def test_a_page_reaching_the_end_stops_the_download(fake, tmp_path):
    exchange = fake.FakeExchange(page_limit=500)
    [result] = download(exchange, SYMBOL, T0, "funding", Catalog(tmp_path), until_ms=T0 + 10 * DAY)
    assert ([c.since for c in exchange.calls], result.rows) == ([T0], 30)


def test_an_interrupted_download_resumes_after_the_last_stored_bar(fake, tmp_path):
    catalog = Catalog(tmp_path)
    crashing = fake.FakeExchange(page_limit=100, fail_on_call=3)
    with pytest.raises(TransientVenueError) as raised:
        download(crashing, SYMBOL, T0, "ohlcv:5m", catalog, until_ms=T0 + DAY, limit=100)
    assert str(raised.value) == (
        "binanceusdm BTC/USDT:USDT ohlcv:5m: binanceusdm GET /fapi/v1/klines: connection reset"
        " by peer; run again to resume"
    )
    assert catalog.last_timestamp("binanceusdm", SYMBOL, "ohlcv", "5m") == T0 + 199 * K

    resumed = fake.FakeExchange(page_limit=100)
    [result] = download(resumed, SYMBOL, T0, "ohlcv:5m", catalog, until_ms=T0 + DAY, limit=100)
    assert [c.since for c in resumed.calls] == [T0 + 200 * K]
    assert (result.start_ms, result.rows, result.first_ms) == (T0 + 200 * K, 88, T0 + 200 * K)
    assert stored_bars(catalog, "ohlcv", "5m") == source_bars(
        fake, "BTCUSDT_perp_5m.csv.gz", T0, T0 + DAY
    )


def test_a_complete_download_run_again_fetches_nothing(fake, tmp_path):
    catalog = Catalog(tmp_path)
    download(fake.FakeExchange(), SYMBOL, T0, "ohlcv:5m,funding", catalog, until_ms=T0 + DAY)
    again = fake.FakeExchange()
    results = download(again, SYMBOL, T0, "ohlcv:5m,funding", catalog, until_ms=T0 + DAY)
    assert [(r.label, r.rows) for r in results] == [("ohlcv:5m", 0), ("funding", 0)]
    assert [c.method for c in again.calls] == ["fetch_funding_rate_history"]


def test_progress_reports_each_page_from_start_to_end(fake, tmp_path):
    updates: list[DownloadProgress] = []
    download(
        fake.FakeExchange(page_limit=100),
        SYMBOL,
        T0,
        "ohlcv:5m",
        Catalog(tmp_path),
        T0 + DAY,
        updates.append,
        limit=100,
    )
    assert [(u.at_ms - T0, u.rows) for u in updates] == [
        (0, 0),
        (100 * K, 100),
        (200 * K, 200),
        (DAY, 288),
    ]
    assert {(u.label, u.start_ms, u.end_ms) for u in updates} == {("ohlcv:5m", T0, T0 + DAY)}


def test_unsupported_kind_and_unknown_symbol_are_config_errors(fake, tmp_path):
    catalog = Catalog(tmp_path)
    with pytest.raises(
        ConfigError, match=r"^download: binanceusdm cannot serve index:1h for BTC/USDT:USDT"
    ):
        download(fake.FakeExchange(), SYMBOL, T0, "index:1h", catalog, until_ms=T0 + DAY)
    with pytest.raises(ConfigError, match="does not have market symbol DOGE/USDT:USDT"):
        download(fake.FakeExchange(), "DOGE/USDT:USDT", T0, "funding", catalog, until_ms=T0 + DAY)


def test_other_exchange_errors_are_terminal_venue_errors(tmp_path):
    class Refusing:
        id = "binanceusdm"

        def fetch_funding_rate_history(self, symbol, since, limit):
            raise ccxt.ExchangeError('binanceusdm {"code":-1003,"msg":"banned"}')

    with pytest.raises(
        TerminalVenueError, match=r"^binanceusdm BTC/USDT:USDT funding: binanceusdm"
    ):
        download(Refusing(), SYMBOL, T0, "funding", Catalog(tmp_path), until_ms=T0 + DAY)


def test_the_end_must_be_after_the_start(fake, tmp_path):
    with pytest.raises(ConfigError, match="until: the end of the download must be after its start"):
        download(fake.FakeExchange(), SYMBOL, T0, "funding", Catalog(tmp_path), until_ms=T0)


def test_make_exchange_builds_a_rate_limited_ccxt_exchange_without_network():
    exchange = make_exchange("binanceusdm")
    assert isinstance(exchange, ccxt.binanceusdm)
    assert exchange.enableRateLimit is True
    with pytest.raises(ConfigError, match="exchange: unknown ccxt exchange id 'binanse'"):
        make_exchange("binanse")


def test_fake_exchange_answers_in_ccxt_shapes(fake):
    exchange = fake.FakeExchange(page_limit=2)
    assert exchange.fetch_ohlcv(SYMBOL, "5m", T0, 10) == [
        [1735603200000, 92759.3, 92819.7, 92680.3, 92755.5, 547.689],
        [1735603500000, 92755.6, 92875.4, 92715.6, 92835.0, 310.319],
    ]
    [first, _] = exchange.fetch_funding_rate_history(SYMBOL, T0, 2)
    assert first == {
        "info": {"symbol": "BTCUSDT", "fundingTime": "1735603200000", "fundingRate": "0.0001"},
        "symbol": SYMBOL,
        "fundingRate": 0.0001,
        "timestamp": 1735603200000,
        "datetime": "2024-12-31T00:00:00.000Z",
    }
    assert np.isclose(first["fundingRate"], 1e-4)

"""The Parquet catalog: layout, round trips, merging, listing, resume points and atomic writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from xmargin.core.errors import ConfigError, DataError
from xmargin.data import catalog as catalog_module
from xmargin.data.catalog import Catalog, CatalogEntry, default_root, symbol_dir
from xmargin.data.loaders import read_funding, read_ohlcv
from xmargin.data.series import FundingSeries, OhlcvSeries

T0 = 1_735_603_200_000
K = 300_000
VENUE, SYMBOL = "binanceusdm", "BTC/USDT:USDT"


def bars(start: int, n: int, price: float = 100.0, timeframe: str | None = "5m") -> OhlcvSeries:
    ts = T0 + K * (start + np.arange(n))
    close = price + np.arange(n, dtype=float)
    return OhlcvSeries(ts, close, close + 1, close - 1, close, np.full(n, 2.0), timeframe, "mem")


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_default_root_is_the_env_override_else_the_xdg_user_data_dir():
    assert default_root({"XMARGIN_CATALOG": "/data/cat"}) == Path("/data/cat")
    assert default_root({"XDG_DATA_HOME": "/xdg"}) == Path("/xdg/xmargin/catalog")
    fallback = default_root({})
    assert fallback == Path.home() / ".local/share/xmargin/catalog"


def test_layout_is_venue_symbol_kind_and_timeframe(tmp_path):
    catalog = Catalog(tmp_path)
    assert (
        catalog.path(VENUE, SYMBOL, "ohlcv", "5m")
        == tmp_path / "binanceusdm/BTC_USDT-USDT/ohlcv/5m.parquet"
    )
    assert (
        catalog.path(VENUE, SYMBOL, "mark", "1h")
        == tmp_path / "binanceusdm/BTC_USDT-USDT/mark/1h.parquet"
    )
    assert (
        catalog.path(VENUE, SYMBOL, "funding")
        == tmp_path / "binanceusdm/BTC_USDT-USDT/funding.parquet"
    )
    assert (
        catalog.path("binance", "BTC/USDT", "trades")
        == tmp_path / "binance/BTC_USDT/trades.parquet"
    )
    assert symbol_dir("BTC/USD:BTC-250328") == "BTC_USD-BTC-250328"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((VENUE, SYMBOL, "ohlcv", None), "ohlcv data needs a timeframe"),
        ((VENUE, SYMBOL, "funding", "8h"), "funding data has no timeframe"),
        (("../up", SYMBOL, "funding", None), "venue '../up' cannot name a catalog directory"),
        ((VENUE, "BTC USDT", "funding", None), "symbol 'BTC USDT' cannot name a catalog directory"),
        ((VENUE, SYMBOL, "candles", None), "unknown data kind 'candles'"),
        ((VENUE, SYMBOL, "ohlcv", "5 min"), "unknown timeframe '5 min'"),
    ],
)
def test_bad_keys_are_config_errors(tmp_path, args, message):
    with pytest.raises(ConfigError, match=message):
        Catalog(tmp_path).path(*args)


def test_write_then_load_round_trips_every_column(tmp_path):
    catalog = Catalog(tmp_path)
    series = bars(0, 5)
    entry = catalog.write(VENUE, SYMBOL, "ohlcv", series)
    path = tmp_path / "binanceusdm/BTC_USDT-USDT/ohlcv/5m.parquet"
    assert entry == CatalogEntry(VENUE, SYMBOL, "ohlcv", "5m", 5, T0, T0 + 4 * K, path)
    loaded = catalog.load(VENUE, SYMBOL, "ohlcv", "5m")
    assert isinstance(loaded, OhlcvSeries)
    for name, array in series.columns().items():
        np.testing.assert_array_equal(getattr(loaded, name), array)
        assert getattr(loaded, name).dtype == array.dtype
    assert (loaded.timeframe, loaded.source, loaded.volume_is_quote) == ("5m", str(path), False)


def test_bar_series_without_timeframe_take_the_catalog_timeframe(tmp_path):
    entry = Catalog(tmp_path).write(VENUE, SYMBOL, "mark", bars(0, 2, timeframe=None), "5m")
    assert entry.timeframe == "5m"
    with pytest.raises(ConfigError, match="series timeframe 5m is not 1h"):
        Catalog(tmp_path).write(VENUE, SYMBOL, "mark", bars(0, 2), "1h")


def test_merge_is_the_union_by_timestamp_with_incoming_rows_winning(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write(VENUE, SYMBOL, "ohlcv", bars(0, 4, price=100.0))
    entry = catalog.write(VENUE, SYMBOL, "ohlcv", bars(2, 4, price=200.0))
    assert (entry.rows, entry.first_ms, entry.last_ms) == (6, T0, T0 + 5 * K)
    merged = catalog.load(VENUE, SYMBOL, "ohlcv", "5m")
    assert isinstance(merged, OhlcvSeries)
    assert merged.close.tolist() == [100.0, 101.0, 200.0, 201.0, 202.0, 203.0]


def test_older_rows_merge_in_front(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write(VENUE, SYMBOL, "ohlcv", bars(5, 2))
    catalog.write(VENUE, SYMBOL, "ohlcv", bars(0, 2))
    assert catalog.load(VENUE, SYMBOL, "ohlcv", "5m").ts_ms.tolist() == [
        T0,
        T0 + K,
        T0 + 5 * K,
        T0 + 6 * K,
    ]


def test_merge_refuses_mixed_volume_units(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write("ftx", "BTC/USD", "ohlcv", bars(0, 2))
    quote = OhlcvSeries(**{**vars(bars(2, 2)), "volume_is_quote": True})
    with pytest.raises(DataError, match="volume units differ from the stored series"):
        catalog.write("ftx", "BTC/USD", "ohlcv", quote)


def test_load_slices_half_open(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write(VENUE, SYMBOL, "ohlcv", bars(0, 6))
    part = catalog.load(VENUE, SYMBOL, "ohlcv", "5m", start_ms=T0 + K, end_ms=T0 + 3 * K)
    assert part.ts_ms.tolist() == [T0 + K, T0 + 2 * K]


def test_loading_what_is_not_stored_says_how_to_get_it(tmp_path):
    with pytest.raises(ConfigError) as raised:
        Catalog(tmp_path).load(VENUE, SYMBOL, "funding")
    path = tmp_path / "binanceusdm/BTC_USDT-USDT/funding.parquet"
    assert str(raised.value) == (
        f"{path}: no binanceusdm BTC/USDT:USDT funding data in the catalog;"
        " import or download it first"
    )


def test_series_type_must_match_the_kind(tmp_path):
    funding = FundingSeries([T0], [0.0001], [8])
    with pytest.raises(ConfigError, match="a FundingSeries cannot be stored as ohlcv data"):
        Catalog(tmp_path).write(VENUE, SYMBOL, "ohlcv", funding, "5m")


def test_entries_list_every_series_with_rows_and_range(tmp_path):
    catalog = Catalog(tmp_path)
    assert catalog.entries() == []
    catalog.write(VENUE, SYMBOL, "ohlcv", bars(0, 3))
    catalog.write(
        VENUE, SYMBOL, "funding", FundingSeries([T0, T0 + 8 * 3_600_000], [1e-4, 2e-4], [8, 8])
    )
    catalog.write("binance", "BTC/USDT", "ohlcv", bars(0, 1))
    listed = [
        (e.venue, e.symbol, e.kind, e.timeframe, e.rows, e.first_ms, e.last_ms)
        for e in catalog.entries()
    ]
    assert listed == [
        ("binance", "BTC/USDT", "ohlcv", "5m", 1, T0, T0),
        (VENUE, SYMBOL, "funding", None, 2, T0, T0 + 8 * 3_600_000),
        (VENUE, SYMBOL, "ohlcv", "5m", 3, T0, T0 + 2 * K),
    ]


def test_last_timestamp_is_the_resume_point(tmp_path):
    catalog = Catalog(tmp_path)
    assert catalog.last_timestamp(VENUE, SYMBOL, "ohlcv", "5m") is None
    catalog.write(VENUE, SYMBOL, "ohlcv", bars(0, 3))
    assert catalog.last_timestamp(VENUE, SYMBOL, "ohlcv", "5m") == T0 + 2 * K


def test_a_file_moved_under_another_key_is_refused(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write(VENUE, SYMBOL, "ohlcv", bars(0, 2))
    target = catalog.path(VENUE, "ETH/USDT:USDT", "ohlcv", "5m")
    target.parent.mkdir(parents=True)
    shutil.copy(catalog.path(VENUE, SYMBOL, "ohlcv", "5m"), target)
    with pytest.raises(
        DataError,
        match="holds binanceusdm BTC/USDT:USDT ohlcv, not binanceusdm ETH/USDT:USDT ohlcv",
    ):
        catalog.load(VENUE, "ETH/USDT:USDT", "ohlcv", "5m")


def test_a_stray_non_catalog_file_is_reported_when_listing(tmp_path):
    stray = tmp_path / "x" / "y" / "z.parquet"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"z.parquet: unreadable Parquet file"):
        Catalog(tmp_path).entries()


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_a_write_that_fails_midway_leaves_the_old_file_intact(tmp_path, monkeypatch, failure):
    catalog = Catalog(tmp_path)
    catalog.write(VENUE, SYMBOL, "ohlcv", bars(0, 3))
    path = catalog.path(VENUE, SYMBOL, "ohlcv", "5m")
    before = path.read_bytes()
    real_write = catalog_module.pq.write_table

    def crash_midway(table, where, **options):
        real_write(table, where, **options)
        where.flush()
        os.ftruncate(where.fileno(), where.tell() // 2)
        raise failure

    monkeypatch.setattr(catalog_module.pq, "write_table", crash_midway)
    raised = (
        pytest.raises(
            ConfigError,
            match=r"5m\.parquet: cannot write \(disk full\) \(the previous file is kept\)",
        )
        if isinstance(failure, OSError)
        else pytest.raises(KeyboardInterrupt, match=r"^$")
    )
    with raised:
        catalog.write(VENUE, SYMBOL, "ohlcv", bars(3, 3, price=500.0))
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["binanceusdm/BTC_USDT-USDT/ohlcv/5m.parquet"]
    monkeypatch.undo()
    assert catalog.load(VENUE, SYMBOL, "ohlcv", "5m").close.tolist() == [100.0, 101.0, 102.0]


def test_pack_perp_candles_and_funding_round_trip_through_the_catalog(tmp_path, pack):
    catalog = Catalog(tmp_path)
    candles, _ = read_ohlcv(pack / "binance_usdm_perp/BTCUSDT_perp_5m.csv.gz")
    funding, _ = read_funding(pack / "binance_usdm_perp/funding_rates_8h.csv", symbol=SYMBOL)
    catalog.write(VENUE, SYMBOL, "ohlcv", candles)
    catalog.write(VENUE, SYMBOL, "funding", funding)
    stored = catalog.load(VENUE, SYMBOL, "ohlcv", "5m")
    assert len(stored) == 119_724
    np.testing.assert_array_equal(stored.columns()["close"], candles.close)
    stored_funding = catalog.load(VENUE, SYMBOL, "funding")
    assert isinstance(stored_funding, FundingSeries)
    np.testing.assert_array_equal(stored_funding.rate, funding.rate)
    assert stored_funding.interval_h.tolist() == [8] * 1247

"""The pack's file names tell venue, ccxt symbol, kind and timeframe; others must be told."""

from __future__ import annotations

import pytest

from xmargin.core.errors import ConfigError
from xmargin.data.naming import (
    FileSpec,
    infer_spec,
    native_symbol_to_ccxt,
    resolve_spec,
    split_pair,
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "binance_usdm_perp/BTCUSDT_perp_5m.csv.gz",
            ("binanceusdm", "BTC/USDT:USDT", "ohlcv", "5m"),
        ),
        (
            "binance_usdm_perp/XRPUSDT_perp_mark_1h.csv.gz",
            ("binanceusdm", "XRP/USDT:USDT", "mark", "1h"),
        ),
        ("binance_usdm_perp/funding_rates_8h.csv", ("binanceusdm", None, "funding", None)),
        ("binance_spot/BTCUSDT_spot_5m.csv.gz", ("binance", "BTC/USDT", "ohlcv", "5m")),
        ("stablecoins/binance_spot_USDCUSDT_5m.csv.gz", ("binance", "USDC/USDT", "ohlcv", "5m")),
        ("stablecoins/binance_spot_FDUSDUSDT_5m.csv.gz", ("binance", "FDUSD/USDT", "ohlcv", "5m")),
        ("stablecoins/binance_spot_USD1USDT_5m.csv.gz", ("binance", "USD1/USDT", "ohlcv", "5m")),
        ("stablecoins/binance_spot_USDPUSDT_1h.csv.gz", ("binance", "USDP/USDT", "ohlcv", "1h")),
        ("second_venue/bybit_BTCUSDT_perp_15m.csv.gz", ("bybit", "BTC/USDT:USDT", "ohlcv", "15m")),
        (
            "second_venue/bybit_SOLUSDT_perp_mark_1h.csv.gz",
            ("bybit", "SOL/USDT:USDT", "mark", "1h"),
        ),
        ("second_venue/bybit_linear_funding_8h.csv", ("bybit", None, "funding", None)),
        (
            "second_venue/hyperliquid_BTCUSDC_perp_5m.csv.gz",
            ("hyperliquid", "BTC/USDC:USDC", "ohlcv", "5m"),
        ),
        ("second_venue/hyperliquid_funding_1h.csv.gz", ("hyperliquid", None, "funding", None)),
        ("second_venue/okx_BTCUSDT_swap_mark_1h.csv.gz", ("okx", "BTC/USDT:USDT", "mark", "1h")),
        ("second_venue/okx_swap_funding_8h.csv", ("okx", None, "funding", None)),
        ("ftx/ftx_spot_BTCUSD_1h.csv.gz", ("ftx", "BTC/USD", "ohlcv", "1h")),
        ("ftx/ftx_spot_ETHUSDT_1h.csv.gz", ("ftx", "ETH/USDT", "ohlcv", "1h")),
        ("ftx/ftx_BTC-PERP_funding_1h_INFERRED.csv", ("ftx", None, "funding", None)),
        (
            "ftx/binance_BTCUSDT_funding_8h_2019-2022_INFERRED_ROUNDED.csv",
            ("binanceusdm", None, "funding", None),
        ),
        (
            "stablecoin_depegs/kucoin_spot_USDCUSDT_1m_2023-02-18_2023-03-21.csv.gz",
            ("kucoin", "USDC/USDT", "ohlcv", "1m"),
        ),
        (
            "ticks_orderbook/hftbacktest_binance_usdm_BTCUSDT_trades_2024-08-08.csv.gz",
            ("binanceusdm", "BTC/USDT:USDT", "trades", None),
        ),
        (
            "ticks_orderbook/hftbacktest_binance_usdm_ETHUSDT_bbo_2024-08-08.csv.gz",
            ("binanceusdm", "ETH/USDT:USDT", "quotes", None),
        ),
        (
            "ticks_orderbook/hftbacktest_binance_spot_BTCUSDT_bbo_2024-08-08.csv.gz",
            ("binance", "BTC/USDT", "quotes", None),
        ),
        (
            "ticks_orderbook/binance_spot_BTCUSDT_trades_2021-01-08.csv",
            ("binance", "BTC/USDT", "trades", None),
        ),
        (
            "ticks_orderbook/binance_spot_BTCUSDT_quotes_2021-01-08.csv",
            ("binance", "BTC/USDT", "quotes", None),
        ),
    ],
)
def test_pack_file_names_are_recognised(path, expected):
    spec = infer_spec(f"../shared/data/{path}")
    assert (spec.venue, spec.symbol, spec.kind, spec.timeframe) == expected


@pytest.mark.parametrize(
    ("path", "hours"),
    [
        ("funding_rates_8h.csv", 8),
        ("hyperliquid_funding_1h.csv.gz", 1),
        ("ftx_BTC-PERP_funding_1h_INFERRED.csv", 1),
    ],
)
def test_funding_file_names_state_the_interval(path, hours):
    assert infer_spec(path).interval_h == hours


def test_unknown_names_yield_at_most_their_timeframe():
    assert infer_spec("usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv") == FileSpec(
        None, None, None, "15m"
    )
    assert infer_spec("defillama_stablecoin_prices_daily.csv.gz") == FileSpec(
        None, None, None, None
    )


def test_unknown_name_without_explicit_choices_is_a_config_error_saying_what_to_pass():
    with pytest.raises(ConfigError) as raised:
        resolve_spec("data/usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv")
    assert str(raised.value) == (
        "data/usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv: cannot tell the venue, kind, symbol"
        " from the file name; pass --venue, --kind, --symbol"
    )


def test_explicit_choices_complete_and_override_the_name():
    spec = resolve_spec(
        "usdc_usd_depeg_2023-03_15m_UNVERIFIED.csv",
        venue="unknown",
        symbol="USDC/USD",
        kind="ohlcv",
    )
    assert spec == FileSpec("unknown", "USDC/USD", "ohlcv", "15m")
    spec = resolve_spec("BTCUSDT_perp_5m.csv.gz", venue="binance_testnet")
    assert spec == FileSpec("binance_testnet", "BTC/USDT:USDT", "ohlcv", "5m")


def test_bars_without_a_timeframe_need_one():
    with pytest.raises(
        ConfigError, match="cannot tell the timeframe from the file name; pass --timeframe"
    ):
        resolve_spec("prices.csv", venue="x", symbol="A/B", kind="ohlcv")


def test_funding_timeframe_option_sets_the_interval():
    spec = resolve_spec("rates.csv", venue="x", kind="funding", timeframe="4h")
    assert spec == FileSpec("x", None, "funding", None, 4)


def test_explicit_kind_and_timeframe_are_checked():
    with pytest.raises(ConfigError, match="unknown data kind 'bars'"):
        resolve_spec("BTCUSDT_perp_5m.csv.gz", kind="bars")
    with pytest.raises(ConfigError, match="unknown timeframe '5 min'"):
        resolve_spec("BTCUSDT_perp_5m.csv.gz", timeframe="5 min")


@pytest.mark.parametrize(
    ("raw", "symbol"),
    [
        ("BTC/USDT:USDT", "BTC/USDT:USDT"),
        ("BTCUSDT", "BTC/USDT:USDT"),
        ("BTC-PERP", "BTC/USD:USD"),
        ("BTC-USDT-SWAP", "BTC/USDT:USDT"),
        ("ETHUSDC", "ETH/USDC:USDC"),
    ],
)
def test_native_funding_symbols_become_ccxt_perpetual_symbols(raw, symbol):
    assert native_symbol_to_ccxt(raw) == symbol


def test_split_pair_needs_a_known_quote_currency():
    assert split_pair("USDCUSDT") == ("USDC", "USDT")
    with pytest.raises(ConfigError, match="cannot tell base and quote currency of 'ABCXYZ'"):
        split_pair("ABCXYZ")

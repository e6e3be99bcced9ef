"""Exact number parsing, the float gate of instruments, and symbol parsing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.model.assets import Asset
from xmargin.model.instruments import InstrumentKind, parse_symbol
from xmargin.model.numbers import (
    NumberError,
    float_to_increments,
    parse_decimal,
    parse_positive,
    quantize_places,
    round_to_increment,
)

D = Decimal


@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", "-Infinity", "abc", ""])
def test_parse_decimal_rejects_non_numbers(bad):
    with pytest.raises(NumberError, match=r"— expected a (finite number|number such as)"):
        parse_decimal(bad)


def test_parse_decimal_refuses_floats_and_bools():
    with pytest.raises(
        NumberError, match=r'0\.1 — expected an exact number: write it as text, "0\.1"'
    ):
        parse_decimal(0.1)
    with pytest.raises(NumberError, match=r"^true — expected a number$"):
        parse_decimal(True)


def test_parse_positive_rejects_zero_and_negative():
    assert parse_positive("1_000.5") == D("1000.5")
    for bad in ("0", "-1"):
        with pytest.raises(NumberError, match=f"'{bad}' — expected a positive number"):
            parse_positive(bad)


def test_float_gate_reads_the_shortest_decimal_and_snaps_to_the_grid():
    assert float_to_increments(0.1, D("0.01")) == D("0.1")
    assert float_to_increments(60123.456, D("0.1")) == D("60123.5")
    assert float_to_increments(2.2950000000000004, D("0.0001")) == D("2.295")
    with pytest.raises(NumberError, match="must be finite, got nan"):
        float_to_increments(float("nan"), D("0.01"))


def test_rounding_modes():
    assert round_to_increment(D("1.2345"), D("0.001"), mode="down") == D("1.234")
    assert round_to_increment(D("-1.2345"), D("0.001"), mode="down") == D("-1.234")
    assert round_to_increment(D("1.2341"), D("0.001"), mode="up") == D("1.235")
    assert round_to_increment(D("1.2345"), D("0.5")) == D("1.0")
    assert quantize_places(D("26316.8932645189"), 2) == D("26316.89")


@pytest.mark.parametrize(
    ("symbol", "kind", "settle"),
    [
        ("BTC/USDT", InstrumentKind.SPOT, "USDT"),
        ("BTC/USDT:USDT", InstrumentKind.LINEAR_PERPETUAL, "USDT"),
        ("BTC/USD:BTC", InstrumentKind.INVERSE_PERPETUAL, "BTC"),
        ("ETH/USDT:USDT-250328", InstrumentKind.DATED_FUTURE, "USDT"),
    ],
)
def test_parse_symbol_kinds(symbol, kind, settle):
    instrument = parse_symbol(symbol)
    assert (instrument.kind, instrument.settle, instrument.margin_asset) == (kind, settle, settle)


def test_parse_symbol_rejects_exchange_ids():
    with pytest.raises(ValueError, match="not a ccxt unified symbol"):
        parse_symbol("BTCUSDT")


def test_instrument_converts_floats_to_its_increments():
    btc = parse_symbol("BTC/USDT:USDT", price_increment=D("0.1"), size_increment=D("0.001"))
    assert btc.make_price(101234.56) == D("101234.6")
    assert btc.make_qty(0.12345) == D("0.123")
    with pytest.raises(NumberError, match="must be positive"):
        btc.make_price(-1.0)
    assert btc.notional(D("-2"), D("100")) == D("200")


def test_inverse_notional_is_contracts_times_contract_size():
    inverse = parse_symbol("BTC/USD:BTC", contract_size=D(100))
    assert inverse.notional(D(-3), D(60000)) == D(300)


def test_stablecoin_assets_know_their_peg():
    usdc = Asset.named("usdc")
    assert usdc.is_stablecoin and usdc.peg == D(1)
    assert usdc.depeg(D("0.8621")) == D("-0.1379")
    assert not Asset.named("BTC").is_stablecoin
    with pytest.raises(ValueError, match="BTC is not a pegged asset"):
        Asset.named("BTC").depeg(D(1))

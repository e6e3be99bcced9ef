"""Tier tables: the documented CSV format, the data pack's Binance file, and its validation."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.core.errors import DataError
from xmargin.margin.tiers import TierTable, load_tier_file, parse_tier_csv

D = Decimal
PACK = DATA_PACK / "margin_tiers"
HEADER = (
    "symbol,tier,currency,min_notional,max_notional,maint_margin_rate,max_leverage,"
    "maint_amount_cum\n"
)


@needs_pack
def test_the_data_packs_binance_tier_file_loads_every_symbol():
    path = PACK / "binance_usdm_leverage_tiers.csv.gz"
    tables = load_tier_file(path)
    assert len(tables) == 349
    btc = tables["BTC/USDT:USDT"]
    assert len(btc.tiers) == 12
    assert btc.maintenance(D(2000000)) == D(12050)
    assert btc.max_leverage(D(100000000)) == D(10)


def test_cum_is_derived_when_left_empty():
    text = HEADER + "X/USDT:USDT,1,USDT,0,100,0.01,50,\nX/USDT:USDT,2,USDT,100,1000,0.02,25,\n"
    table = parse_tier_csv(text.encode(), source="t.csv")["X/USDT:USDT"]
    assert table.tiers[1].cum == D(1)
    assert table.maintenance(D(500)) == D(9)


def test_gzip_input_is_detected():
    text = HEADER + "X/USDT:USDT,1,USDT,0,100,0.01,50,0\n"
    assert "X/USDT:USDT" in parse_tier_csv(gzip.compress(text.encode()), source="t.csv.gz")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("X,1,USDT,0,100,0.01,50,0\nX,2,USDT,200,300,0.02,25,1\n", "row 3, min_notional"),
        ("X,1,USDT,0,100,0.01,50,0\nX,2,USDT,100,300,0.02,25,7\n", "row 3, maint_amount_cum"),
        ("X,1,USDT,0,100,nan,50,0\n", "row 2, maint_margin_rate"),
        ("X,1,USDT,0,100,1.5,50,0\n", "row 2, maint_margin_rate"),
        ("X,1,USDT,0,100,0.01,-5,0\n", "row 2, max_leverage"),
        ("X,1,USDT,0,0,0.01,5,0\n", "row 2, max_notional"),
        (",1,USDT,0,100,0.01,5,0\n", "row 2, symbol"),
    ],
)
def test_bad_rows_name_the_row_and_field(rows, message):
    with pytest.raises(DataError, match=message):
        parse_tier_csv((HEADER + rows).encode(), source="t.csv")


def test_missing_columns_and_corrupt_gzip_are_reported(tmp_path):
    with pytest.raises(DataError, match="missing column"):
        parse_tier_csv(b"symbol,tier\nX,1\n", source="t.csv")
    with pytest.raises(DataError, match="corrupt gzip"):
        parse_tier_csv(b"\x1f\x8b\x08garbage", source="t.csv.gz")
    with pytest.raises(DataError, match="cannot read tier file"):
        load_tier_file(tmp_path / "absent.csv")


def test_hyperliquid_style_steps_build_deductions():
    table = TierTable.from_leverage_steps("BTC/USDC:USDC", [(D(0), D(40)), (D(150_000_000), D(20))])
    assert table.tiers[1].cum == D(1_875_000)
    assert table.tier_for(D(10**12)).max_leverage == D(20)

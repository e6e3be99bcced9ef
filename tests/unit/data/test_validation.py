"""Validation names the file, CSV row and field of the first bad row; repair fixes and reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xmargin.core.errors import ConfigError, DataError
from xmargin.data.loaders import read_funding, read_ohlcv, read_quotes, read_trades
from xmargin.data.series import FundingSeries, OhlcvSeries, TradeSeries
from xmargin.data.validation import Gap, Repair, RepairReport, gap_report, validate

T0 = 1_735_603_200_000  # 2024-12-31 00:00 UTC, on every grid
K = 300_000  # one 5m bar
H = 3_600_000
BARS = "ts_ms,open,high,low,close,volume\n"


def csv_file(tmp_path: Path, body: str, name: str = "bars_5m.csv") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def rejects(path: Path, reader=read_ohlcv, **options) -> str:
    with pytest.raises(DataError) as raised:
        reader(path, **options)
    return str(raised.value)


def test_high_below_max_of_open_and_close_names_file_row_and_field(tmp_path):
    path = csv_file(tmp_path, BARS + f"{T0},100,101,99,100.5,1\n{T0 + K},100.5,101.0,100,102.5,2\n")
    assert rejects(path) == f"{path}, row 3, high: 101.0 is below max(open, close) 102.5"


def test_low_above_min_of_open_and_close_is_rejected(tmp_path):
    path = csv_file(tmp_path, BARS + f"{T0},100,101,99,100.5,1\n{T0 + K},100.5,103,101.0,102,2\n")
    assert rejects(path) == f"{path}, row 3, low: 101.0 is above min(open, close) 100.5"


def test_duplicate_timestamp_is_rejected_naming_the_earlier_row(tmp_path):
    path = csv_file(tmp_path, BARS + f"{T0},1,1,1,1,1\n{T0 + K},1,1,1,1,1\n{T0 + K},1,1,1,1,1\n")
    assert rejects(path) == f"{path}, row 4, ts_ms: {T0 + K} repeats the timestamp of row 3"


def test_out_of_order_timestamp_is_rejected(tmp_path):
    path = csv_file(tmp_path, BARS + f"{T0 + K},1,1,1,1,1\n{T0},1,1,1,1,1\n")
    assert rejects(path) == f"{path}, row 3, ts_ms: {T0} is earlier than {T0 + K} in row 2"


def test_timestamp_off_the_timeframe_grid_is_rejected(tmp_path):
    path = csv_file(tmp_path, BARS + f"{T0},1,1,1,1,1\n{T0 + 60_000},1,1,1,1,1\n")
    assert rejects(path) == (
        f"{path}, row 3, ts_ms: {T0 + 60_000} is not on the 5m grid (off by 60000 ms)"
    )


def test_grid_is_not_checked_when_the_timeframe_is_unknown(tmp_path):
    path = csv_file(tmp_path, BARS + f"{T0},1,1,1,1,1\n{T0 + 60_000},1,1,1,1,1\n", "bars.csv")
    series, _ = read_ohlcv(path)
    assert series.timeframe is None and len(series) == 2


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("nan,1,1,1,1", "open: nan is not a finite number"),
        ("1,inf,1,1,1", "high: inf is not a finite number"),
        ("1,1,-inf,1,1", "low: -inf is not a finite number"),
        ("1,1,1,nan,1", "close: nan is not a finite number"),
        ("0,1,0.5,1,1", "open: 0.0 is not positive"),
        ("1,1,-1,1,1", "low: -1.0 is not positive"),
        ("1,1,1,1,-2", "volume: -2.0 is negative"),
        ("1,1,1,1,nan", "volume: nan is not a finite number"),
    ],
)
def test_non_finite_non_positive_prices_and_negative_volume_are_rejected(tmp_path, row, expected):
    path = csv_file(tmp_path, BARS + f"{T0},1,1,1,1,1\n{T0 + K},{row}\n")
    assert rejects(path) == f"{path}, row 3, {expected}"


def test_message_counts_all_bad_rows_when_more_than_one(tmp_path):
    body = BARS + f"{T0},1,1,1,1,1\n{T0 + K},1,1,1,1,-1\n{T0 + 2 * K},1,0.5,1,1,1\n"
    path = csv_file(tmp_path, body)
    assert rejects(path) == f"{path}, row 3, volume: -1.0 is negative (first of 2 bad rows)"


def test_leftmost_field_is_reported_first_on_one_row(tmp_path):
    path = csv_file(tmp_path, BARS + f"{T0},-1,0.5,2,1,-5\n")
    assert rejects(path) == f"{path}, row 2, open: -1.0 is not positive"


def test_ftx_quote_volume_column_is_named_as_in_the_file(tmp_path):
    body = f"ts_ms,open,high,low,close,volume_quote\n{T0},1,1,1,1,-3\n"
    path = csv_file(tmp_path, body, "ftx_spot_BTCUSD_1h.csv")
    assert rejects(path) == f"{path}, row 2, volume_quote: -3.0 is negative"


def test_funding_rows_of_other_symbols_keep_their_csv_line_numbers(tmp_path):
    body = (
        "ts_ms,symbol,funding_rate\n"
        f"{T0},BTC/USDT:USDT,0.0001\n{T0},ETH/USDT:USDT,0.0001\n"
        f"{T0 + 8 * H},BTC/USDT:USDT,0.0002\n{T0 + 8 * H},ETH/USDT:USDT,nan\n"
    )
    path = csv_file(tmp_path, body, "funding_rates_8h.csv")
    series, _ = read_funding(path, symbol="BTC/USDT:USDT")
    assert series.rate.tolist() == [0.0001, 0.0002]
    message = rejects(path, read_funding, symbol="ETH/USDT:USDT")
    assert message == f"{path}, row 5, funding_rate: nan is not a finite number"


def test_funding_duplicate_settlement_and_non_positive_interval_are_rejected(tmp_path):
    dup = csv_file(tmp_path, f"ts_ms,funding_rate,interval_h\n{T0},0.1,8\n{T0},0.2,8\n", "a.csv")
    assert rejects(dup, read_funding) == f"{dup}, row 3, ts_ms: {T0} repeats the timestamp of row 2"
    zero = csv_file(tmp_path, f"ts_ms,funding_rate,interval_h\n{T0},0.1,0\n", "b.csv")
    assert (
        rejects(zero, read_funding)
        == f"{zero}, row 2, interval_h: 0 is not a positive number of hours"
    )


def test_trades_may_share_a_millisecond_but_never_go_back_in_time(tmp_path):
    header = "ts_ms,price,quantity,buyer_maker\n"
    same = csv_file(tmp_path, header + f"{T0},10,1,True\n{T0},10,2,False\n", "same.csv")
    series, _ = read_trades(same)
    assert series.qty.tolist() == [1.0, 2.0]
    assert series.buyer_is_maker.tolist() == [True, False]
    back = csv_file(tmp_path, header + f"{T0 + 5},10,1,True\n{T0},10,2,False\n", "back.csv")
    assert (
        rejects(back, read_trades)
        == f"{back}, row 3, ts_ms: {T0} is earlier than {T0 + 5} in row 2"
    )
    zero = csv_file(tmp_path, header + f"{T0},10,0,True\n", "zero.csv")
    assert (
        rejects(zero, read_trades)
        == f"{zero}, row 2, quantity: 0.0 is not a positive finite number"
    )


def test_crossed_quote_and_negative_size_are_rejected(tmp_path):
    header = "ts_ms,bid,bid_size,ask,ask_size\n"
    crossed = csv_file(tmp_path, header + f"{T0},10.5,1,10.5,1\n{T0},10.6,1,10.5,1\n", "x.csv")
    assert rejects(crossed, read_quotes) == f"{crossed}, row 3, bid: 10.6 is above the ask 10.5"
    negative = csv_file(tmp_path, header + f"{T0},10.4,-1,10.5,1\n", "y.csv")
    assert rejects(negative, read_quotes) == f"{negative}, row 2, bid_size: -1.0 is negative"


MESSY = BARS + (
    f"{T0},100,101,99,100,1\n"  # row 2
    f"{T0 + 2 * K},100,101,99,100,1\n"  # row 3: replaced by row 5 (same time, later)
    f"{T0 + K},100,101,99,100,1\n"  # row 4: out of order
    f"{T0 + 2 * K},200,201,199,200,5\n"  # row 5
    f"{T0 + 3 * K},nan,101,99,100,1\n"  # row 6: dropped
    f"{T0 + 4 * K},100,99.5,99,100.5,1\n"  # row 7: high raised to 100.5
    f"{T0 + 5 * K},100,101,100.5,99.8,1\n"  # row 8: low lowered to 99.8
    f"{T0 + 6 * K},100,101,99,100,-3\n"  # row 9: volume set to 0
    f"{T0 + 6 * K + 60_000},100,101,99,100,1\n"  # row 10: off the grid, dropped
)


def test_repair_applies_the_documented_steps_and_reports_each_with_rows(tmp_path):
    path = csv_file(tmp_path, MESSY)
    series, report = read_ohlcv(path, repair=True)
    assert report == RepairReport(
        str(path),
        rows_in=9,
        rows_out=6,
        repairs=(
            Repair("dropped rows: open is not a finite number", "open", (6,)),
            Repair("sorted by time; these rows were out of order", "ts_ms", (4,)),
            Repair("dropped duplicate timestamps, kept the last row", "ts_ms", (3,)),
            Repair("dropped rows off the 5m grid", "ts_ms", (10,)),
            Repair("raised to max(open, close)", "high", (7,)),
            Repair("lowered to min(open, close)", "low", (8,)),
            Repair("set to 0 (was negative or not finite)", "volume", (9,)),
        ),
    )
    assert report.repaired_rows == 7
    assert series.ts_ms.tolist() == [T0 + i * K for i in (0, 1, 2, 4, 5, 6)]
    assert series.open.tolist() == [100.0, 100.0, 200.0, 100.0, 100.0, 100.0]
    assert series.high.tolist() == [101.0, 101.0, 201.0, 100.5, 101.0, 101.0]
    assert series.low.tolist() == [99.0, 99.0, 199.0, 99.0, 99.8, 99.0]
    assert series.volume.tolist() == [1.0, 1.0, 5.0, 1.0, 1.0, 0.0]


def test_repair_report_prints_one_line_per_repair(tmp_path):
    path = csv_file(tmp_path, MESSY)
    _, report = read_ohlcv(path, repair=True)
    lines = str(report).splitlines()
    assert lines[0] == f"{path}: 9 rows in, 6 out"
    assert lines[1] == "  open: dropped rows: open is not a finite number: rows 6"
    assert lines[-1] == "  volume: set to 0 (was negative or not finite): rows 9"


def test_valid_series_passes_with_an_empty_report(tmp_path):
    path = csv_file(tmp_path, BARS + f"{T0},1,2,0.5,1.5,3\n")
    series, report = read_ohlcv(path, repair=True)
    assert report == RepairReport(str(path), 1, 1, ())
    assert str(report) == f"{path}: no repairs needed"
    assert series.high.tolist() == [2.0]


def test_trade_repair_sorts_keeps_same_millisecond_trades_and_drops_zero_sizes():
    trades = TradeSeries(
        [T0 + 2, T0, T0, T0 + 1],
        [10.0, 11.0, 12.0, 13.0],
        [1.0, 2.0, 0.0, 4.0],
        [True, False, True, False],
        source="t",
    )
    repaired, report = validate(trades, repair=True)
    assert repaired.ts_ms.tolist() == [T0, T0 + 1, T0 + 2]
    assert repaired.price.tolist() == [11.0, 13.0, 10.0]
    assert [(r.field, r.rows) for r in report.repairs] == [("qty", (4,)), ("ts_ms", (3, 5))]


def test_line_numbers_of_filtered_rows_are_reported():
    series = FundingSeries([T0, T0], [0.1, 0.2], [8, 8], source="f.csv")
    with pytest.raises(
        DataError, match=r"^f.csv, row 9, ts_ms: .* repeats the timestamp of row 7$"
    ):
        validate(series, line_numbers=np.array([7, 9]))


def test_gap_report_lists_missing_bars_on_the_grid():
    ts = [T0, T0 + K, T0 + 4 * K, T0 + 5 * K, T0 + 7 * K]
    ones = np.ones(len(ts))
    series = OhlcvSeries(ts, ones, ones, ones, ones, ones, "5m")
    assert gap_report(series) == [Gap(T0 + 2 * K, T0 + 4 * K, 2), Gap(T0 + 6 * K, T0 + 7 * K, 1)]


def test_funding_gaps_follow_each_rows_interval_and_tolerate_late_settlements():
    ts = [T0, T0 + 8 * H + 3, T0 + 24 * H, T0 + 25 * H, T0 + 26 * H, T0 + 28 * H]
    series = FundingSeries(ts, np.zeros(6), [8, 8, 8, 1, 1, 1])
    assert gap_report(series) == [
        Gap(T0 + 16 * H + 3, T0 + 24 * H, 1),
        Gap(T0 + 27 * H, T0 + 28 * H, 1),
    ]


def test_gap_report_needs_a_grid():
    ones = np.ones(2)
    with pytest.raises(ConfigError, match="gap report needs a timeframe"):
        gap_report(OhlcvSeries([T0, T0 + K], ones, ones, ones, ones, ones, None, "s"))
    with pytest.raises(ConfigError, match="trades and quotes have no grid"):
        gap_report(TradeSeries([T0, T0 + 1], ones, ones, [True, True], source="s"))

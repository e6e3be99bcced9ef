"""Indicators against hand computations (the arithmetic is written out in each test)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from xmargin.strategy.indicators import Ema, Momentum, Qqe, RollingStd, Rsi, Sma, WilderMa


def feed(indicator, values):
    return [indicator.update(v) for v in values]


def test_sma_is_the_mean_of_the_last_period_values_once_full():
    assert feed(Sma(3), [1, 2, 3, 4, 5]) == [None, None, 2, 3, 4]


def test_ema_is_seeded_with_the_simple_mean_then_smoothed_with_two_over_n_plus_one():
    # seed (2+4+6)/3 = 4; alpha = 2/4 = 0.5: 4 + 0.5*(8-4) = 6; 6 + 0.5*(4-6) = 5
    assert feed(Ema(3), [2, 4, 6, 8, 4]) == [None, None, 4, 6, 5]


def test_wilder_average_of_n_equals_an_ema_of_2n_minus_1_after_the_seed():
    # Wilder(3): seed 4, alpha 1/3: 4 + (10-4)/3 = 6; 6 + (0-6)/3 = 4
    assert feed(WilderMa(3), [2, 4, 6, 10, 0]) == [None, None, 4, 6, 4]
    wilder, ema = WilderMa(4), Ema(7)
    wilder.value = ema.value = 1.0  # same state: only the alphas differ (1/4 = 2/8)
    assert wilder.update(3.0) == ema.update(3.0) == 1.5


def test_rsi_uses_wilder_averages_of_gains_and_losses():
    # changes +1, -1 -> avg gain 0.5, avg loss 0.5 -> RSI 50
    # change +2: gain 0.5 + (2-0.5)/2 = 1.25, loss 0.5 + (0-0.5)/2 = 0.25 -> 100 - 100/6
    # change -1: gain 1.25 + (0-1.25)/2 = 0.625, loss 0.25 + (1-0.25)/2 = 0.625 -> 50
    values = feed(Rsi(2), [10, 11, 10, 12, 11])
    assert values[:2] == [None, None]
    assert values[2] == 50
    assert values[3] == pytest.approx(100 - 100 / 6, abs=1e-12)
    assert values[4] == pytest.approx(50, abs=1e-12)


def test_rsi_without_losses_is_100_and_of_a_flat_window_50():
    assert feed(Rsi(2), [1, 2, 3])[-1] == 100
    assert feed(Rsi(2), [5, 5, 5])[-1] == 50


def test_rolling_std_is_the_population_deviation_of_the_window():
    assert feed(RollingStd(2), [1, 3, 7]) == [None, 1, 2]
    assert RollingStd(3).update(1) is None


def test_momentum_is_the_rate_of_change_over_the_period():
    values = feed(Momentum(2), [100, 105, 110, 99])
    assert values[:2] == [None, None]
    assert values[2] == pytest.approx(0.10)
    assert values[3] == pytest.approx(99 / 105 - 1)


def qqe_reference(closes, n, smoothing, factor):
    """The QQE written out over whole lists, for comparison with the incremental one."""

    def smooth(xs, period, alpha):
        out, value = [], None
        for i, x in enumerate(xs):
            if x is None:
                out.append(None)
                continue
            seen = [v for v in xs[: i + 1] if v is not None]
            if value is None:
                if len(seen) == period:
                    value = sum(seen) / period
            else:
                value += alpha * (x - value)
            out.append(value)
        return out

    changes = [None] + [b - a for a, b in pairwise(closes)]
    gains = smooth([None if c is None else max(c, 0) for c in changes], n, 1 / n)
    losses = smooth([None if c is None else max(-c, 0) for c in changes], n, 1 / n)
    rsi = [
        None
        if up is None
        else (50 if up == down == 0 else 100 if down == 0 else 100 - 100 / (1 + up / down))
        for up, down in zip(gains, losses, strict=True)
    ]
    line = smooth(rsi, smoothing, 2 / (smoothing + 1))
    delta = [None] + [None if a is None or b is None else abs(b - a) for a, b in pairwise(line)]
    dar = smooth(smooth(delta, n, 1 / n), n, 1 / n)
    trend, long_band, short_band, trends = 0, None, None, []
    for i, (value, d) in enumerate(zip(line, dar, strict=True)):
        if d is None:
            trends.append(None)
            continue
        previous = line[i - 1]
        new_long, new_short = value - d * factor, value + d * factor
        if long_band is None:
            long_band, short_band = new_long, new_short
        else:
            old_long, old_short = long_band, short_band
            up = previous > old_long and value > old_long
            long_band = max(old_long, new_long) if up else new_long
            down = previous < old_short and value < old_short
            short_band = min(old_short, new_short) if down else new_short
            if value > old_short >= previous:
                trend = 1
            elif value < old_long <= previous:
                trend = -1
        trends.append(trend)
    return trends


CLOSES = [100, 99, 98, 97, 96, 97, 95, 94, 93, 95, 98, 101, 104, 103, 105, 108, 107, 104, 100, 96]


def test_qqe_matches_the_written_out_reference_bar_by_bar():
    qqe = Qqe(rsi_period=3, smoothing=2, factor=1.5)
    assert feed(qqe, CLOSES) == qqe_reference(CLOSES, 3, 2, 1.5)


def test_qqe_warms_up_then_turns_up_on_a_rally_and_down_on_a_drop():
    trends = feed(Qqe(rsi_period=3, smoothing=2, factor=1.5), CLOSES)
    # RSI(3) from the 4th close, its EMA(2) from the 5th, |change| from the 6th, the first
    # Wilder(3) average from the 8th and the second from the 10th: bands at index 9
    assert trends[:9] == [None] * 9
    assert trends[9] == 0
    assert 1 in trends and trends[-1] == -1
    assert trends.index(1) < trends.index(-1)


def test_qqe_first_values_by_hand():
    # rsi_period 2, smoothing 1 (the line is the RSI itself), factor 1
    qqe = Qqe(rsi_period=2, smoothing=1, factor=1.0)
    values = feed(qqe, [10, 11, 10, 12, 11, 13, 14])
    # RSI at closes 10, 12, 11 (indices 2-4): 50, 100 - 100/6, 50 (see the RSI test)
    gain, loss = 0.625 + (2 - 0.625) / 2, 0.625 / 2  # index 5, close 13: change +2
    rsi5 = 100 - 100 / (1 + gain / loss)
    gain, loss = gain + (1 - gain) / 2, loss / 2  # index 6, close 14: change +1
    rsi6 = 100 - 100 / (1 + gain / loss)
    d3 = (100 - 100 / 6) - 50  # |change of the line| at indices 3 to 6
    d4 = (100 - 100 / 6) - 50
    d5 = rsi5 - 50
    d6 = rsi6 - rsi5
    first = (d3 + d4) / 2  # Wilder(2) of |change|, seeded at index 4
    second = first + (d5 - first) / 2
    third = second + (d6 - second) / 2
    dar5 = (first + second) / 2  # the second Wilder(2), seeded at index 5
    dar6 = dar5 + (third - dar5) / 2
    long5, short5 = rsi5 - dar5, rsi5 + dar5
    long6 = max(long5, rsi6 - dar6)  # the line stayed above the long band: it trails up
    short6 = rsi6 + dar6 if rsi6 >= short5 else min(short5, rsi6 + dar6)
    assert values[:5] == [None] * 5
    assert values[5] == 0  # bands exist; no cross yet
    assert qqe.line == pytest.approx(rsi6)
    assert qqe.long_band == pytest.approx(long6)
    assert qqe.short_band == pytest.approx(short6)
    assert values[6] == (1 if rsi6 > short5 else 0)

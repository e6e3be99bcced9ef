"""The venue's mark over a run where its mark feed is coarser than its bars (decision 0003).

The simulated venue carries each bar's close by the basis (mark − last trade) measured when
the latest mark completed; the equity curve values positions on the same track.
"""

from __future__ import annotations

import numpy as np

from xmargin.backtest.equity import PriceTrack


def mark_estimate_track(bars: PriceTrack, marks: PriceTrack) -> PriceTrack:
    """Return the mark as the venue estimates it: each mark close when it completes, and at
    every bar close that close plus the basis of the latest mark at or before it.

    The basis of a mark is its close minus the bar close at the same instant, else the last
    one before it, else the first one after (where the venue measures it); before the first
    mark it is 0. A carried price at or below zero falls back to the bar close.
    """
    if not len(marks.ts_ms) or not len(bars.ts_ms):
        return marks if len(marks.ts_ms) else bars
    bar_ts, bar_close = bars.ts_ms, bars.price
    mark_ts, mark_close = marks.ts_ms, marks.price
    trade_at_mark = np.maximum(np.searchsorted(bar_ts, mark_ts, side="right") - 1, 0)
    basis = mark_close - bar_close[trade_at_mark]
    alone = bar_ts[trade_at_mark] != mark_ts
    latest = np.searchsorted(mark_ts, bar_ts, side="right") - 1
    carried = bar_close + np.where(latest >= 0, basis[np.maximum(latest, 0)], 0.0)
    carried = np.where(carried > 0, carried, bar_close)
    times = np.concatenate((bar_ts, mark_ts[alone]))
    prices = np.concatenate((carried, mark_close[alone]))
    order = np.argsort(times, kind="stable")
    return PriceTrack(times[order], prices[order])

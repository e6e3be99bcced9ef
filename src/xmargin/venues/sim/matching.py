"""Matching rules of the simulated exchange: when an order triggers or fills, and at what price.

Bars (documented intra-bar assumptions):

- a bar's range is all that is known of its path; a resting limit fills when the bar trades
  *through* its price (buy: low < limit; sell: high > limit), at the limit price, as maker;
  when the bar opened through it (a gap) it fills at the open, so a bar-matched fill never
  lies outside the bar's [low, high];
- a limit order that reaches the venue between two data points (order latency, or fills at
  the next open) meets the next price first: marketable there, it takes at that price as a
  taker (a post-only one expires); otherwise it rests from then on;
- a stop or take-profit triggers when the bar's range reaches the trigger (on last trades,
  or on mark updates when it triggers on the mark); a stop-market then fills at the trigger,
  or at the bar's open when the market gapped through it, as taker;
- a triggered stop-limit rests as a limit from the next bar on (it never fills in the bar
  that triggered it);
- market orders fill at the signal bar's close or the next bar's open (venue setting);
- a taker fill of a limit order never goes past its limit price, slippage included.

Trades: a resting limit fills when a trade prints through its price; market orders take the
next trade's price. Quotes: market orders take the opposite best price up to its size;
resting limits fill when the opposite side reaches their price.
"""

from __future__ import annotations

from xmargin.model.orders import Order, OrderSide, OrderType


def trigger_crossed(order: Order, low: float, high: float) -> bool:
    """Return whether a price range ``[low, high]`` reaches the order's trigger."""
    trigger = float(order.trigger_price or 0)
    rises = _triggers_on_rise(order)
    return high >= trigger if rises else low <= trigger


def _triggers_on_rise(order: Order) -> bool:
    """Buy stops and sell take-profits trigger on a rise; the other two on a fall."""
    is_stop = order.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
    return (order.side is OrderSide.BUY) == is_stop


def would_trigger_now(order: Order, price: float) -> bool:
    """Return whether the trigger is already reached at ``price`` (such orders are rejected)."""
    return trigger_crossed(order, price, price)


def triggered_fill_price(order: Order, bar_open: float) -> float:
    """Return a triggered stop-market's fill price: its trigger, or the open if gapped through."""
    trigger = float(order.trigger_price or 0)
    if _triggers_on_rise(order):
        return max(trigger, bar_open)
    return min(trigger, bar_open)


def limit_marketable(order: Order, price: float) -> bool:
    """Return whether a limit order would take liquidity at ``price``."""
    limit = float(order.price or 0)
    return price <= limit if order.side is OrderSide.BUY else price >= limit


def limit_traded_through(order: Order, low: float, high: float) -> bool:
    """Return whether a bar (or a trade at low == high) traded through the limit price."""
    limit = float(order.price or 0)
    return low < limit if order.side is OrderSide.BUY else high > limit

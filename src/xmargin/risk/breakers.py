"""Circuit breakers: conditions on live equity and market health that stop or shrink trading.

Each breaker watches one thing and, when it fires, reports a ``Trip`` with the value it
measured and its limit; the risk engine turns that into REDUCING or HALTED. Equity is live:
unrealised PnL at current marks is included.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from xmargin.risk.settings import BreakerSettings
from xmargin.risk.state import TradingState

DAY_NS = 86_400 * 1_000_000_000
SECOND_NS = 1_000_000_000


@dataclass(frozen=True)
class Trip:
    breaker: str
    action: TradingState
    value: Decimal
    limit: Decimal
    detail: str


def _decimal(value: float) -> Decimal:
    return Decimal(repr(round(value, 10)))


class DailyLoss:
    """Equity down ``limit`` (a fraction) from the UTC day's opening equity."""

    name = "daily_loss"

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings
        self.day = -1
        self.day_open = 0.0
        self.floor = float("-inf")

    def on_equity(self, ts: int, equity: float) -> Trip | None:
        day = ts // DAY_NS
        if day != self.day:
            self.day = day
            self.day_open = equity
            self.floor = equity * (1 - float(self.settings.limit))
        if equity > self.floor or self.day_open <= 0:
            return None
        loss = (self.day_open - equity) / self.day_open
        return Trip(
            self.name,
            self.settings.action,
            _decimal(loss),
            self.settings.limit,
            f"equity {equity:,.2f} vs {self.day_open:,.2f} at the start of the UTC day",
        )


class MaxDrawdown:
    """Equity down ``limit`` (a fraction) from its highest value."""

    name = "max_drawdown"

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings
        self.peak = float("-inf")
        self.floor = float("-inf")

    def on_equity(self, ts: int, equity: float) -> Trip | None:
        if equity > self.peak:
            self.peak = equity
            self.floor = equity * (1 - float(self.settings.limit))
            return None
        if equity > self.floor or self.peak <= 0:
            return None
        drawdown = (self.peak - equity) / self.peak
        return Trip(
            self.name,
            self.settings.action,
            _decimal(drawdown),
            self.settings.limit,
            f"equity {equity:,.2f} vs a peak of {self.peak:,.2f}",
        )


class ConsecutiveLosses:
    """``limit`` losing round trips in a row."""

    name = "consecutive_losses"

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings
        self.streak = 0

    def on_round_trip(self, pnl: Decimal) -> Trip | None:
        self.streak = self.streak + 1 if pnl < 0 else 0
        if self.streak < self.settings.limit:
            return None
        return Trip(
            self.name,
            self.settings.action,
            Decimal(self.streak),
            self.settings.limit,
            f"{self.streak} losing trades in a row, the last {pnl:.2f}",
        )


class StaleData:
    """No market data for ``limit`` seconds on an instrument with an open position."""

    name = "stale_data"

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings

    def on_ages(self, ts: int, last_seen: dict[str, int]) -> Trip | None:
        limit_ns = int(self.settings.limit * SECOND_NS)
        for instrument, seen in sorted(last_seen.items()):
            if ts - seen >= limit_ns:
                age = Decimal(ts - seen) / SECOND_NS
                return Trip(
                    self.name,
                    self.settings.action,
                    age,
                    self.settings.limit,
                    f"no data for {instrument} for {age} s",
                )
        return None


class StablecoinDepeg:
    """A collateral stablecoin trading below ``limit`` (a price, e.g. 0.98)."""

    name = "stablecoin_depeg"

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings

    def on_prices(self, prices: dict[str, float]) -> Trip | None:
        for asset in self.settings.assets:
            price = prices.get(asset)
            if price is not None and price < float(self.settings.limit):
                return Trip(
                    self.name,
                    self.settings.action,
                    _decimal(price),
                    self.settings.limit,
                    f"{asset} held as collateral trades at {price}",
                )
        return None


class FundingSpike:
    """A funding rate (per 8 hours) beyond ±``limit`` on an instrument held."""

    name = "funding_spike"

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings

    def on_funding(self, instrument: str, rate: Decimal, interval_hours: int) -> Trip | None:
        per_8h = rate * 8 / interval_hours if interval_hours else rate
        if abs(per_8h) < self.settings.limit:
            return None
        return Trip(
            self.name,
            self.settings.action,
            per_8h,
            self.settings.limit,
            f"{instrument} funding {rate} per {interval_hours} h",
        )


class RejectRate:
    """The venue rejected at least ``limit`` (a fraction) of the last ``window`` orders."""

    name = "reject_rate"

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings
        self.outcomes: deque[bool] = deque(maxlen=settings.window)

    def on_answer(self, rejected: bool) -> Trip | None:
        self.outcomes.append(rejected)
        if len(self.outcomes) < self.settings.window:
            return None
        rate = Decimal(sum(self.outcomes)) / len(self.outcomes)
        if rate < self.settings.limit:
            return None
        return Trip(
            self.name,
            self.settings.action,
            rate,
            self.settings.limit,
            f"{sum(self.outcomes)} of the last {len(self.outcomes)} orders rejected",
        )


BREAKER_CLASSES = {
    cls.name: cls
    for cls in (
        DailyLoss,
        MaxDrawdown,
        ConsecutiveLosses,
        StaleData,
        StablecoinDepeg,
        FundingSpike,
        RejectRate,
    )
}

"""Settings of one simulated venue: costs, fills, latency, funding and interest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from xmargin.model.orders import TriggerSource
from xmargin.venues.sim.costs import FeeSchedule, Slippage
from xmargin.venues.sim.latency import Latency

FILL_AT_CLOSE = "close"
FILL_AT_NEXT_OPEN = "next_open"


@dataclass(frozen=True)
class FundingSchedule:
    """When funding settles: from rate data, or every ``interval_hours`` at ``constant_rate``."""

    interval_hours: int = 8
    constant_rate: Decimal | None = None


@dataclass(frozen=True)
class SimVenueConfig:
    """Everything venue-wide the simulated exchange needs besides its accounts.

    ``fill_at``: a market order sent on a bar fills at that bar's ``close`` (the signal
    bar) or the ``next_open``. ``stop_trigger``: the default price stops trigger on.
    ``interest_rates``: hourly borrow rates per asset (falling back to the margin model's
    own per-asset rates, then ``default_interest_rate``, then the model's default).
    ``borrow_limits``: the most each asset can be borrowed per account.
    ``first_hour_interest``: charge an hour of interest when a loan is confirmed (Binance).
    ``auto_borrow``: spot orders short of an asset borrow the shortfall (margin orders).
    """

    venue_id: str
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    slippage: Slippage = field(default_factory=Slippage)
    latency: Latency = field(default_factory=Latency)
    fill_at: str = FILL_AT_CLOSE
    stop_trigger: TriggerSource = TriggerSource.LAST
    funding: FundingSchedule = field(default_factory=FundingSchedule)
    interest_rates: Mapping[str, Decimal] = field(default_factory=dict)
    default_interest_rate: Decimal | None = None
    borrow_limits: Mapping[str, Decimal] = field(default_factory=dict)
    first_hour_interest: bool = False
    interest_minute: int = 0
    auto_borrow: bool = False

"""What the two-leg strategies share: the hedged pair, its PnL split and its risk guard.

A subclass names its two legs (``legs``), decides a target with ``self.pair.set_target``,
and calls ``on_clock`` from its clock bar. This base then keeps both legs on the target
(``HedgedPair``), books the PnL split (``CarryAttribution``), repays loans a closed pair no
longer needs, and once an hour checks each leg's liquidation distance from the venue's
own margin report: a leg closer than ``min_liquidation_distance`` to its liquidation price
shrinks the pair by ``deleverage_fraction`` (the risk engine's pre-trade checks apply to
every order as well). After the pair gives up on a leg (an unwind, see ``HedgedPair``) no
new pair is opened for ``cooldown_hours``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from xmargin.core.errors import ConfigError
from xmargin.model.instruments import InstrumentKind
from xmargin.model.market_data import Bar
from xmargin.model.numbers import ZERO
from xmargin.strategy.base import Strategy
from xmargin.strategy.carry_pnl import CarryAttribution
from xmargin.strategy.hedged_pair import HedgedPair, Leg

log = logging.getLogger(__name__)
NANOS_PER_HOUR = 3_600_000_000_000


@dataclass(frozen=True)
class PairParams:
    """Parameters every two-leg strategy has (sizes in the quote currency)."""

    notional: Decimal = Decimal(10000)
    tolerance: Decimal = Decimal(0)
    max_retries: int = 3
    min_liquidation_distance: float = 0.15
    deleverage_fraction: float = 0.25
    cooldown_hours: float = 24.0
    flatten_on_stop: bool = True


class PairStrategy(Strategy, ABC):
    """Base of the two-leg strategies; see the module docstring."""

    def __init__(self, strategy_id: str, params: PairParams) -> None:
        super().__init__(strategy_id, params)
        if params.notional <= 0:
            raise ValueError(f"{strategy_id}: notional must be positive")
        if not 0 < params.deleverage_fraction <= 1:
            raise ValueError(f"{strategy_id}: deleverage_fraction must be in (0, 1]")
        self._pair: HedgedPair | None = None
        self._attribution: CarryAttribution | None = None
        self._next_check = 0
        self._unwinds_seen = 0
        self.blocked_until = 0
        self.deleverages = 0
        self.clock_venue = ""

    # -- to be supplied by subclasses -------------------------------------------------------

    @abstractmethod
    def legs(self) -> tuple[Leg, Leg]:
        """Leg a (held at ``+target``) and leg b (held at ``−target``)."""

    # -- shared machinery -------------------------------------------------------------------

    @property
    def pair(self) -> HedgedPair:
        if self._pair is None:
            raise RuntimeError(f"strategy {self.id} has not started")
        return self._pair

    @property
    def attribution(self) -> CarryAttribution:
        if self._attribution is None:
            raise RuntimeError(f"strategy {self.id} has not started")
        return self._attribution

    def linked_accounts(self) -> tuple[str, ...]:
        return tuple(leg.account for leg in self.legs())

    def on_start(self) -> None:
        a, b = self.legs()
        for leg in (a, b):
            try:
                self.ctx.instrument(leg.symbol, leg.account)
            except ConfigError as exc:
                raise ConfigError(f"strategy {self.id}: {exc}") from None
        params: PairParams = self.params
        self.clock_venue = self.ctx.venue_id()
        self._pair = HedgedPair(
            self.ctx, a, b, tolerance=params.tolerance, max_retries=params.max_retries
        )
        self._attribution = CarryAttribution(
            {a.account, b.account}, self._value, self._in_reporting
        )

    def on_order_event(self, event: object) -> None:
        if self._attribution is not None:
            self._attribution.on_event(event)

    def on_clock(self, bar: Bar) -> None:
        """Run once per clock bar, after the subclass has set its target."""
        attribution = self.attribution
        if attribution.start_equity is None:
            self._mark()
        if bar.ts_event >= self._next_check:
            self._next_check = bar.ts_event - bar.ts_event % NANOS_PER_HOUR + NANOS_PER_HOUR
            if self.pair.target != 0 and not self.pair.busy:
                self._guard_liquidation()
        self.pair.sync()
        if self.pair.unwinds != self._unwinds_seen:
            self._unwinds_seen = self.pair.unwinds
            cooldown = int(self.params.cooldown_hours * NANOS_PER_HOUR)
            self.blocked_until = self.ctx.now_ns + cooldown
        if self.pair.target == 0 and not self.pair.busy:
            self._repay_loans()

    @property
    def may_enter(self) -> bool:
        """False during ``cooldown_hours`` after the pair gave up on a leg (an unwind)."""
        return self.ctx.now_ns >= self.blocked_until

    def _accounts(self) -> list[str]:
        return sorted({leg.account for leg in self.legs()})

    def equity(self) -> Decimal:
        """The two legs' accounts' equity, in the run's reporting currency."""
        return sum(
            (
                self.ctx.in_reporting_currency(
                    self.ctx.margin(a, liquidation_prices=False).equity, a
                )
                for a in self._accounts()
            ),
            ZERO,
        )

    def _mark(self) -> None:
        effect = sum((self.ctx.currency_effect(a) for a in self._accounts()), ZERO)
        self.attribution.mark(self.equity(), effect)

    def results(self) -> Mapping[str, str]:
        """The PnL split now (funding, basis, fees, interest), and what the pair did."""
        if self._attribution is None:
            return {}
        self._mark()
        return {
            **self._attribution.as_dict(),
            "unwinds": str(self.pair.unwinds),
            "deleverages": str(self.deleverages),
        }

    def on_stop(self) -> None:
        if self._pair is None:
            return
        self._mark()
        if self.params.flatten_on_stop:
            self._pair.set_target(ZERO)
            self._pair.sync()

    # -- risk -----------------------------------------------------------------------------

    def liquidation_distance(self) -> float | None:
        """The smallest relative distance of any exposure of either leg's account to its
        liquidation price (None when nothing can be liquidated)."""
        closest: float | None = None
        for account in sorted({leg.account for leg in self.legs() if self._can_liquidate(leg)}):
            for row in self.ctx.margin(account).exposures:
                if row.liquidation_price is None or row.price <= 0 or row.size == 0:
                    continue
                distance = float(abs(row.liquidation_price - row.price) / row.price)
                closest = distance if closest is None else min(closest, distance)
        return closest

    def _can_liquidate(self, leg: Leg) -> bool:
        """A spot leg's account can only be liquidated while it owes something."""
        spec = self.ctx.instrument(leg.symbol, leg.account)
        if spec.kind is not InstrumentKind.SPOT:
            return True
        return any(self.ctx.liability(a, leg.account) > 0 for a in (spec.base, spec.quote))

    def _guard_liquidation(self) -> None:
        params: PairParams = self.params
        distance = self.liquidation_distance()
        if distance is None or distance >= params.min_liquidation_distance:
            return
        pair = self.pair
        smaller = pair.round(pair.target * Decimal(repr(1.0 - params.deleverage_fraction)))
        log.info(
            "%s: a leg is %.1f %% from liquidation; target %s -> %s",
            self.id,
            distance * 100,
            pair.target,
            smaller,
        )
        pair.set_target(smaller)
        self.deleverages += 1

    def _repay_loans(self) -> None:
        """Repay what the spot leg's account still owes and holds (after the pair closed)."""
        for leg in self.legs():
            spec = self.ctx.instrument(leg.symbol, leg.account)
            if spec.kind is not InstrumentKind.SPOT:
                continue
            for asset in (spec.quote, spec.base):
                owed = self.ctx.liability(asset, leg.account)
                held = self.ctx.balance(asset, leg.account)
                if owed > 0 and held > 0:
                    self.ctx.repay(asset, min(owed, held), leg.account)

    def _value(self, account: str, asset: str, amount: Decimal) -> Decimal:
        """Value ``amount`` of ``asset`` in the account's settle currency (venue's price)."""
        return self.ctx.value_in_quote(asset, amount, account)

    def _in_reporting(self, account: str, amount: Decimal) -> Decimal:
        return self.ctx.in_reporting_currency(amount, account)

"""Protective stops on the mark price: stop-loss, take-profit, trailing; OCO groups; brackets.

A ``StopGroup`` protects a position (an account's position in one instrument) with up to three
legs that form one OCO group: the first to fire closes the whole position and cancels the
others. A trailing leg follows the best mark since the group was armed (a long trails the
highest mark) at a fixed fraction. A bracket is an entry order whose group is armed when the
entry fills. ``oco`` links any working orders: the first fill cancels the rest.

The same group runs in two modes, with the same triggers and the same fills:

- native: each leg is the venue's own reduce-only stop-market / take-profit-market order
  triggered on the mark; quantities follow the position and a trailing leg's trigger is
  moved up (modified) as the mark rises;
- emulated: the risk engine compares each leg with the mark at every step and, when one is
  crossed, sends a reduce-only market order for the whole position.

A level already crossed when a group is armed fires at once in both modes. Cancels and
modifications happen in the risk pass of a step, never while a venue is matching. Every
firing is a ``StopTriggered`` event. A halt drops every group (the kill switch flattens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count
from typing import Any, Protocol

from xmargin.core.errors import ConfigError
from xmargin.model.events import (
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
    StopTriggered,
)
from xmargin.model.instruments import Instrument
from xmargin.model.numbers import ZERO, round_to_increment
from xmargin.model.orders import Order, OrderSide, OrderType
from xmargin.portfolio.ledger import AccountBook
from xmargin.risk.settings import StopSettings

STOP_LOSS, TAKE_PROFIT, TRAILING = "stop_loss", "take_profit", "trailing"
PENDING, ACTIVE, DONE = "pending", "active", "done"
CLOSED_WITHOUT_FILL = (OrderCanceled, OrderExpired, OrderRejected, OrderDenied)


class StopsDesk(Protocol):
    """What the stop manager reads and does (the kernel implements it)."""

    def now_ns(self) -> int: ...
    def book(self, account: str) -> AccountBook: ...
    def instrument_spec(self, account: str, symbol: str) -> Instrument: ...
    def mark_of(self, account: str, symbol: str) -> Decimal: ...
    def mark_float(self, account: str, symbol: str) -> float: ...
    def native_stops(self, account: str) -> bool: ...
    def cancel_order(self, order: Order) -> None: ...
    def modify_order(
        self, order: Order, quantity: Decimal | None, trigger_price: Decimal | None
    ) -> None: ...
    def publish(self, event: object) -> None: ...


# (account, symbol, side, quantity, strategy, order type, trigger price) → the order sent
Send = Callable[[str, str, OrderSide, Decimal, str, OrderType, Decimal | None], Order]


@dataclass
class StopLeg:
    kind: str
    level: Decimal | None  # the price given (stop-loss, take-profit); None for trailing
    trail: Decimal | None = None  # trailing distance as a fraction of the best mark
    trigger: Decimal = ZERO
    peak: Decimal = ZERO
    order: Order | None = None  # the venue's order, in native mode

    def crossed(self, mark: float, long: bool) -> bool:
        """Whether ``mark`` reaches the trigger (a long's stops below, its take-profit above)."""
        rises = (self.kind == TAKE_PROFIT) == long
        return mark >= float(self.trigger) if rises else mark <= float(self.trigger)


@dataclass
class StopGroup:
    """One protected position: legs in OCO, native or emulated; see the module docstring."""

    id: str
    strategy: str
    account: str
    symbol: str
    legs: list[StopLeg]
    native: bool
    status: str = PENDING
    long: bool = True
    entry: Order | None = None
    entry_filled: bool = False
    fired: StopLeg | None = None
    unreported: bool = False

    @property
    def triggers(self) -> dict[str, Decimal]:
        return {leg.kind: leg.trigger for leg in self.legs}


@dataclass
class OcoGroup:
    orders: list[Order]
    filled: set[str] = field(default_factory=set)


class StopManager:
    """Stops, brackets and OCO groups of every strategy; run by the risk engine."""

    def __init__(self, settings: StopSettings, desk: StopsDesk, send: Send) -> None:
        self.settings = settings
        self.desk = desk
        self.send = send
        self.groups: list[StopGroup] = []
        self.ocos: list[OcoGroup] = []
        self._by_order: dict[str, tuple[StopGroup, StopLeg | None]] = {}
        self._oco_of: dict[str, OcoGroup] = {}
        self._ids = count(1)
        self.fired = 0

    @property
    def active(self) -> bool:
        return bool(self.groups or self.ocos)

    # -- requests from strategies ----------------------------------------------------------

    def protect(
        self,
        strategy: str,
        account: str,
        symbol: str,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing: Decimal | None = None,
    ) -> StopGroup:
        """Protect the position held now; raise ``ValueError`` when there is none."""
        group = self._group(strategy, account, symbol, stop_loss, take_profit, trailing)
        size = self._size(account, symbol)
        if size == 0:
            raise ValueError(f"no position in {symbol} on {account} to protect")
        self._check_levels(group, size > 0)
        self.groups.append(group)
        self._arm(group, size)
        return group

    def bracket(
        self,
        strategy: str,
        entry: Order,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing: Decimal | None = None,
    ) -> StopGroup:
        """Arm a group on ``entry``'s position once it fills (dropped if it never does)."""
        group = self._group(
            strategy, entry.account, entry.instrument, stop_loss, take_profit, trailing
        )
        group.entry = entry
        self._check_levels(group, entry.side is OrderSide.BUY)
        if entry.status.is_closed and entry.filled_quantity == 0:
            group.status = DONE
            return group
        self.groups.append(group)
        self._by_order[entry.client_order_id] = (group, None)
        group.entry_filled = entry.filled_quantity > 0
        return group

    def oco(self, orders: list[Order]) -> OcoGroup:
        """Link working orders: the first fill of one cancels the others."""
        if len(orders) < 2:
            raise ValueError("an OCO group needs at least two orders")
        group = OcoGroup(list(orders))
        for order in orders:
            self._oco_of[order.client_order_id] = group
            if order.filled_quantity > 0:
                group.filled.add(order.client_order_id)
        self.ocos.append(group)
        return group

    def cancel(self, group: StopGroup) -> None:
        """Stop protecting: cancel the group's venue orders."""
        self._close(group)

    def drop_strategy(self, strategy: str) -> None:
        for group in [g for g in self.groups if g.strategy == strategy]:
            self._close(group)
        for oco in [o for o in self.ocos if o.orders[0].strategy_id == strategy]:
            self._drop_oco(oco)

    def clear(self) -> None:
        """Forget every group (the kill switch has canceled their orders)."""
        for group in self.groups:
            group.status = DONE
        self.groups.clear()
        self.ocos.clear()
        self._by_order.clear()
        self._oco_of.clear()

    # -- events and steps -------------------------------------------------------------------

    def on_event(self, event: object) -> None:
        coid = getattr(event, "client_order_id", None)
        if coid is None:
            return
        filled = isinstance(event, OrderFilled)
        if filled:
            oco = self._oco_of.get(coid)
            if oco is not None:
                oco.filled.add(coid)
            self._follow(event)
        found = self._by_order.get(coid)
        if found is None:
            return
        group, leg = found
        if group.status == DONE:
            return
        if leg is None:
            if isinstance(event, OrderFilled):
                group.entry_filled = True
            elif isinstance(event, CLOSED_WITHOUT_FILL) and not group.entry_filled:
                group.status = DONE
            return
        if isinstance(event, OrderTriggered) and group.fired is None:
            group.fired = leg
            # reported in the step's risk pass, with the step's mark, as an emulated leg is
            size = self._size(group.account, group.symbol)
            group.unreported = size != 0 and (size > 0) == group.long
        elif isinstance(event, CLOSED_WITHOUT_FILL) and group.fired is None:
            leg.order = None  # the venue dropped the leg: watch it here instead

    def _follow(self, fill: Any) -> None:
        """A position changed: native legs take its new size at once, before the venue's
        next trigger check (flat or reversed ends the group in the next risk pass)."""
        for group in self.groups:
            if (
                group.native
                and group.status == ACTIVE
                and group.fired is None
                and group.symbol == fill.instrument
                and group.account == fill.account
            ):
                size = self._size(group.account, group.symbol)
                if size == 0 or (size > 0) != group.long:
                    continue
                for leg in group.legs:
                    order = leg.order
                    if order is not None and order.status.is_open and order.quantity != abs(size):
                        self.desk.modify_order(order, abs(size), None)

    def on_step(self, ts: int) -> None:
        """Cancel OCO siblings, arm filled brackets, follow positions, fire emulated legs."""
        if self.ocos:
            for oco in [o for o in self.ocos if o.filled]:
                self._drop_oco(oco)
        for group in tuple(self.groups):
            if group.status == DONE:
                continue
            size = self._size(group.account, group.symbol)
            if group.status == PENDING:
                if group.entry_filled and size != 0:
                    self._arm(group, size)
                elif group.entry is not None and group.entry.status.is_closed and size == 0:
                    self._close(group)
                continue
            if group.fired is not None or size == 0 or (size > 0) != group.long:
                if group.unreported and group.fired is not None:
                    self._report(group, group.fired)
                self._close(group)
                continue
            self._watch(group, size)
        self.groups = [g for g in self.groups if g.status != DONE]

    # -- internals --------------------------------------------------------------------------

    def _group(
        self,
        strategy: str,
        account: str,
        symbol: str,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        trailing: Decimal | None,
    ) -> StopGroup:
        legs = [
            StopLeg(kind, level)
            for kind, level in ((STOP_LOSS, stop_loss), (TAKE_PROFIT, take_profit))
            if level is not None
        ]
        if trailing is not None:
            if not 0 < trailing < 1:
                raise ValueError(f"trailing must be a fraction between 0 and 1, got {trailing}")
            legs.append(StopLeg(TRAILING, None, trailing))
        if not legs:
            raise ValueError("give at least one of stop_loss, take_profit and trailing")
        mode = self.settings.mode
        supported = self.desk.native_stops(account)
        if mode == "native" and not supported:
            raise ConfigError(f"stops: the venue of {account} has no native mark-triggered stops")
        native = supported and mode != "emulated"
        return StopGroup(f"S{next(self._ids)}", strategy, account, symbol, legs, native)

    @staticmethod
    def _check_levels(group: StopGroup, long: bool) -> None:
        levels = {leg.kind: leg.level for leg in group.legs if leg.level is not None}
        stop, take = levels.get(STOP_LOSS), levels.get(TAKE_PROFIT)
        if stop is not None and take is not None and (stop >= take) == long:
            side = "long" if long else "short"
            raise ValueError(f"a {side}'s stop-loss {stop} is on the wrong side of {take}")

    def _size(self, account: str, symbol: str) -> Decimal:
        held = self.desk.book(account).positions.get(symbol)
        return held.size if held is not None else ZERO

    def _arm(self, group: StopGroup, size: Decimal) -> None:
        """Set triggers from the current mark; fire at once if one is already crossed."""
        desk = self.desk
        spec = desk.instrument_spec(group.account, group.symbol)
        group.long = size > 0
        mark = desk.mark_of(group.account, group.symbol)
        for leg in group.legs:
            if leg.kind == TRAILING:
                leg.peak = mark
                leg.trigger = _trail_trigger(spec, mark, leg.trail or ZERO, group.long)
            else:
                leg.trigger = spec.round_price(leg.level or ZERO)
        group.status = ACTIVE
        mark_f = desk.mark_float(group.account, group.symbol)
        for leg in group.legs:
            if leg.crossed(mark_f, group.long):
                self._fire(group, leg, size)
                return
        if group.native:
            side = OrderSide.SELL if group.long else OrderSide.BUY
            for leg in group.legs:
                kind = (
                    OrderType.TAKE_PROFIT_MARKET
                    if leg.kind == TAKE_PROFIT
                    else OrderType.STOP_MARKET
                )
                leg.order = self.send(
                    group.account, group.symbol, side, abs(size), group.strategy, kind, leg.trigger
                )
                self._by_order[leg.order.client_order_id] = (group, leg)

    def _watch(self, group: StopGroup, size: Decimal) -> None:
        """Fire a crossed emulated leg; else move trailing triggers and follow the size."""
        desk = self.desk
        mark_f = desk.mark_float(group.account, group.symbol)
        for leg in group.legs:
            if leg.order is None and leg.crossed(mark_f, group.long):
                self._fire(group, leg, size)
                return
        for leg in group.legs:
            if leg.kind == TRAILING:
                mark = desk.mark_of(group.account, group.symbol)
                if (mark > leg.peak) == group.long and mark != leg.peak:
                    spec = desk.instrument_spec(group.account, group.symbol)
                    leg.peak = mark
                    trigger = _trail_trigger(spec, mark, leg.trail or ZERO, group.long)
                    if trigger != leg.trigger:
                        leg.trigger = trigger
                        if leg.order is not None and leg.order.status.is_open:
                            desk.modify_order(leg.order, None, trigger)
            order = leg.order
            if order is not None and order.status.is_open and order.quantity != abs(size):
                desk.modify_order(order, abs(size), None)

    def _fire(self, group: StopGroup, leg: StopLeg, size: Decimal) -> None:
        group.fired = leg
        self._report(group, leg)
        self._close(group)
        for other in tuple(self.groups):  # the whole position closes: its other groups end
            if (other.account, other.symbol) == (group.account, group.symbol) and (
                other.status == ACTIVE or other.entry_filled
            ):
                self._close(other)
        side = OrderSide.SELL if size > 0 else OrderSide.BUY
        self.send(
            group.account, group.symbol, side, abs(size), group.strategy, OrderType.MARKET, None
        )

    def _report(self, group: StopGroup, leg: StopLeg) -> None:
        self.fired += 1
        desk = self.desk
        desk.publish(
            StopTriggered(
                desk.now_ns(),
                group.account,
                group.symbol,
                leg.kind,
                leg.trigger,
                desk.mark_of(group.account, group.symbol),
                group.strategy,
            )
        )

    def _close(self, group: StopGroup) -> None:
        """End a group: cancel its venue orders that are still working (not the fired one)."""
        group.status = DONE
        for leg in group.legs:
            order = leg.order
            if order is not None:
                self._by_order.pop(order.client_order_id, None)
                if leg is not group.fired and order.status.is_open:
                    self.desk.cancel_order(order)
        if group.entry is not None:
            self._by_order.pop(group.entry.client_order_id, None)
        if group in self.groups:
            self.groups.remove(group)

    def _drop_oco(self, oco: OcoGroup) -> None:
        for order in oco.orders:
            self._oco_of.pop(order.client_order_id, None)
            if order.client_order_id not in oco.filled and not order.status.is_closed:
                self.desk.cancel_order(order)
        self.ocos.remove(oco)


def _trail_trigger(spec: Instrument, peak: Decimal, trail: Decimal, long: bool) -> Decimal:
    """The trailing trigger: ``trail`` below a long's peak (above a short's), on the tick,
    rounded away from the peak."""
    raw = peak * (1 - trail) if long else peak * (1 + trail)
    return round_to_increment(raw, spec.price_increment, mode="down" if long else "up")

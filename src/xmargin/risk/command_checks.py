"""Pre-trade checks of the venue commands that are not new orders.

Cancels and repayments always pass: they only take risk off. While HALTED nothing else does
(the kill switch's flattening is an order, and passes ``RiskEngine.check``). While REDUCING a
borrow is denied, a transfer passes only if the source account's margin ratio — the venue's
own, from its margin model on a what-if of the balance change — does not get worse, a
leverage change only if it does not raise the leverage, and a modify only if the order it
leaves reduces the position. In every state a leverage change must be within
``max_instrument_leverage``, ``max_leverage`` and the venue's tier maximum for the
position's notional, and a modify is checked by the order rules as the order it leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xmargin.margin.base import MarginModel, MarginReport
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.commands import (
    COMMAND_NAMES,
    Borrow,
    CancelOrder,
    ModifyOrder,
    Repay,
    SetLeverage,
    Transfer,
    VenueCommand,
)
from xmargin.model.numbers import ZERO
from xmargin.model.orders import Order
from xmargin.risk.checks import OrderCheck, Rule, TradingView, _fmt, _ratio
from xmargin.risk.desk import RISK_STRATEGY, EquityTerms, RiskDesk
from xmargin.risk.fences import Fences
from xmargin.risk.settings import RiskSettings
from xmargin.risk.state import TradingState, TradingStateMachine

Denial = tuple[str, str]
INFINITY = Decimal("Infinity")
# Rules a modify skips: the rate counts new orders; the fence is asked about the change only.
NOT_FOR_MODIFIES = frozenset({"max_orders_per_minute", "fence"})


def halted_reason(command: str) -> str:
    return (
        f"trading is halted: a {command} is not allowed; only cancels, repayments and the "
        "kill switch's flattening pass until trading is resumed"
    )


def check_command(
    command: VenueCommand, view: TradingView, state: TradingState, settings: RiskSettings
) -> Denial | None:
    """Check a cancel, borrow, repay, transfer or leverage change (modifies: ``check_modify``)."""
    if isinstance(command, CancelOrder | Repay):
        return None
    if state is TradingState.HALTED:
        return "halted", halted_reason(COMMAND_NAMES[type(command)])
    if isinstance(command, Borrow) and state is TradingState.REDUCING:
        return "reducing", (
            f"trading is reducing: a borrow of {command.amount} {command.asset} adds a liability"
        )
    if isinstance(command, Transfer) and state is TradingState.REDUCING:
        return _transfer_while_reducing(command, view)
    if isinstance(command, SetLeverage):
        return _leverage(command, view, state, settings)
    return None


def _safety(report: MarginReport) -> Decimal:
    """The venue's headline ratio on one scale where larger is safer (unbounded: safest)."""
    if report.margin_ratio is None:
        return INFINITY
    return report.margin_ratio if report.margin_ratio_kind.higher_is_safer else -report.margin_ratio


def _transfer_while_reducing(command: Transfer, view: TradingView) -> Denial | None:
    """A transfer passes while REDUCING only if the source's margin ratio does not worsen."""
    account = command.from_account
    model = view.model_of(account)
    before = view.snapshot(account)
    after = before.with_balance(command.asset, before.balance(command.asset) - command.amount)
    now, then = model.summary(before), model.summary(after)
    if _safety(then) >= _safety(now):
        return None
    kind = now.margin_ratio_kind
    direction = "higher" if kind.higher_is_safer else "lower"
    return "reducing", (
        f"trading is reducing: transferring {command.amount} {command.asset} out of {account} "
        f"would take its {kind.value} from {_shown(now.margin_ratio)} to "
        f"{_shown(then.margin_ratio)} ({direction} is safer)"
    )


def _shown(ratio: Decimal | None) -> str:
    return "unbounded" if ratio is None else _ratio(ratio)


def current_leverage(
    model: MarginModel, snapshot: AccountSnapshot, instrument: str
) -> Decimal | None:
    """The leverage the venue applies to ``instrument`` now: the account's setting, else the
    model's (per symbol, then default); None where the model has no leverage setting."""
    setting = snapshot.leverage.get(instrument)
    if setting is not None:
        return setting
    per_symbol: Any = getattr(model, "leverage", None)
    if isinstance(per_symbol, Mapping) and instrument in per_symbol:
        return Decimal(per_symbol[instrument])
    default = getattr(model, "default_leverage", None)
    return default if isinstance(default, Decimal) else None


def _leverage(
    command: SetLeverage, view: TradingView, state: TradingState, settings: RiskSettings
) -> Denial | None:
    """A leverage setting within the caps and the venue's tier maximum; while REDUCING, no
    higher than the one it replaces."""
    leverage, symbol = command.leverage, command.instrument
    if leverage <= 0:
        return "leverage", f"leverage must be positive, got {leverage}"
    model = view.model_of(command.account)
    snapshot = view.snapshot(command.account)
    if state is TradingState.REDUCING:
        current = current_leverage(model, snapshot, symbol)
        if current is None or leverage > current:
            shown = "unknown" if current is None else f"{_ratio(current)}×"
            return "reducing", (
                f"trading is reducing: leverage {_ratio(leverage)}× on {symbol} would raise "
                f"the current {shown}"
            )
    cap = settings.max_instrument_leverage.for_instrument(symbol)
    if cap is not None and leverage > cap:
        return "max_instrument_leverage", (
            f"leverage {_ratio(leverage)}× on {symbol} exceeds the limit {_ratio(cap)}×"
        )
    cap = settings.max_leverage
    if cap is not None and leverage > cap:
        return "max_leverage", (
            f"leverage {_ratio(leverage)}× on {symbol} exceeds the account limit {_ratio(cap)}×"
        )
    table = getattr(model, "table", None)
    if callable(table) and model.knows(symbol):
        position = snapshot.position(symbol)
        notional = position.notional if position is not None else ZERO
        tier_max = table(symbol).max_leverage(notional)
        if leverage > tier_max:
            return "venue_max_leverage", (
                f"leverage {_ratio(leverage)}× on {symbol} exceeds the {model.venue} maximum "
                f"of {_ratio(tier_max)}× for a position notional of {_fmt(notional)}"
            )
    return None


def modified_order(order: Order, command: ModifyOrder) -> Order | None:
    """The order as the modify leaves it (its remaining quantity at its new prices), or None
    when the new quantity is at or below what has filled (the venue cancels it)."""
    quantity = command.quantity if command.quantity is not None else order.quantity
    leaves = quantity - order.filled_quantity
    if leaves <= 0:
        return None
    return Order(
        order.client_order_id,
        order.instrument,
        order.side,
        leaves,
        order.order_type,
        price=command.price if command.price is not None else order.price,
        trigger_price=(
            command.trigger_price if command.trigger_price is not None else order.trigger_price
        ),
        trigger_source=order.trigger_source,
        time_in_force=order.time_in_force,
        reduce_only=order.reduce_only,
        post_only=order.post_only,
        account=order.account,
        strategy_id=order.strategy_id,
        ts_init=order.ts_init,
    )


class CommandControls:
    """The risk engine's checks of every command but new orders (``RiskEngine`` has them)."""

    settings: RiskSettings
    machine: TradingStateMachine
    desk: RiskDesk | None
    checks: list[Rule]
    fences: Fences | None
    _terms: dict[str, EquityTerms]
    _working: dict[str, Order]
    _pending: dict[tuple[str, str], Decimal]

    def check_command(self, command: VenueCommand, kernel: object) -> Denial | None:
        """Check a venue command that is not a new order; the first rule that objects denies
        it with its numbers (see the module's docstring for the rules)."""
        assert self.desk is not None
        if isinstance(command, ModifyOrder):
            return self._check_modify(command)
        return check_command(command, self.desk, self.machine.state, self.settings)

    def _check_modify(self, command: ModifyOrder) -> Denial | None:
        """The order rules on the order as the modify leaves it, with the position before it
        counting the account's other pending orders (not this order's own remainder)."""
        state = self.machine.state
        if state is TradingState.HALTED:
            return "halted", halted_reason("modify")
        if command.strategy_id == RISK_STRATEGY:
            return None  # the risk engine's own stop legs following their position
        assert self.desk is not None
        order = self.desk.find_order(command.account, command.client_order_id)
        if order is None or order.status.is_closed:
            return None  # the venue rejects it, with an event
        proposed = modified_order(order, command)
        if proposed is None:
            return None
        key = (order.account, order.instrument)
        tracked = order.client_order_id in self._working
        leaves = order.leaves_quantity * order.side.sign
        pending = self._pending.get(key, ZERO) - (leaves if tracked else ZERO)
        terms = self._terms.get(order.account)
        subject = OrderCheck(
            proposed, self.desk, state, terms.equity_and_gross if terms else None, pending
        )
        for rule in self.checks:
            if rule.name not in NOT_FOR_MODIFIES:
                reason = rule.check(subject)
                if reason is not None:
                    return rule.name, reason
        change = proposed.signed_quantity - leaves
        if self.fences is not None:
            reason = self.fences.denial(
                order.strategy_id,
                key,
                change,
                subject.mark,
                subject.spec.contract_size,
                self._terms,
            )
            if reason is not None:
                return "fence", reason
            if change and not order.order_type.has_trigger:
                self.fences.sent(order.strategy_id, key, change)
        if tracked and change:
            self._pending[key] = self._pending.get(key, ZERO) + change
        return None

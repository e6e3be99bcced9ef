"""Liquidation as each venue does it (spec §A.7, B.4, C.4, D.4, E.1), booked through the ledger.

Prices come from the snapshot the margin guard found liquidatable: the triggering market at
its liquidation price (or the interval's open when it gapped through), the others at their
marks. Venue randomisation is replaced by the spec's deterministic choices.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.margin.base import Exposure, MarginState
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.binance_margin_liquidation import buy_back_to_stop, sale_value_to_stop
from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.ftx import FtxCross
from xmargin.margin.ftx_liquidation import auto_close_fills, liquidation_orders
from xmargin.margin.hyperliquid import HyperliquidCross
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.events import InsuranceFundCovered, Liquidated, LoanRepaid
from xmargin.model.instruments import Instrument, parse_symbol
from xmargin.model.numbers import ZERO, quantize_places, round_to_increment
from xmargin.portfolio.ledger import PostingKind
from xmargin.venues.sim.accounts import SimAccount

if TYPE_CHECKING:
    from xmargin.venues.sim.exchange import SimulatedExchange

MAX_ROUNDS = 50


def liquidate(
    exchange: SimulatedExchange,
    account: SimAccount,
    snapshot: AccountSnapshot,
    exposure: Exposure | None,
    trigger_ts_ms: int,
) -> None:
    """Cancel the account's orders and run its venue's liquidation until it is safe or flat."""
    exchange.cancel_all(account, "liquidation")
    run = _Liquidation(exchange, account, snapshot, exposure, trigger_ts_ms)
    model = account.model
    if isinstance(model, BinanceCrossMargin):
        run.sell_collateral(model)
    elif isinstance(model, FtxCross):
        run.ftx_ladder(model)
    elif isinstance(model, HyperliquidCross):
        run.hyperliquid(model)
    elif isinstance(model, BinanceUsdmCross):
        run.close_all(model.clearance_fee_rate, "full")
    else:
        run.close_all(exchange.config.fees.taker, "full")
    run.cover_deficit()
    account.state = MarginState.OK


class _Liquidation:
    """One liquidation of one account: books closing trades at the snapshot's prices."""

    def __init__(
        self,
        exchange: SimulatedExchange,
        account: SimAccount,
        snapshot: AccountSnapshot,
        exposure: Exposure | None,
        trigger_ts_ms: int,
    ) -> None:
        self.exchange = exchange
        self.account = account
        self.model = account.model
        self.exposure = exposure
        self.moved_price = None if exposure is None else _moved_price(snapshot, exposure)
        self.trigger_ts_ms = trigger_ts_ms
        self.ts = exchange.clock.now_ns()
        ratio = account.model.headline(snapshot)[1]
        self.ratio = None if ratio is None or not ratio.is_finite() else quantize_places(ratio, 10)
        account.state = MarginState.LIQUIDATING

    def snapshot(self) -> AccountSnapshot:
        """The account now, with the triggering market held at its liquidation price."""
        current = self.exchange.snapshot(self.account)
        if self.exposure is None or self.moved_price is None:
            return current
        return self.exposure.moved(current, self.moved_price)

    def spec(self, symbol: str) -> Instrument:
        market = self.exchange.markets.get(symbol)
        return market.spec if market is not None else parse_symbol(symbol)

    def book(
        self, symbol: str, quantity: Decimal, price: Decimal, fee: Decimal, stage: str
    ) -> None:
        spec = self.spec(symbol)
        self.exchange.note_position(self.account.id, symbol)
        self.exchange.ledger.apply_fill(
            self.ts, self.account.id, spec, quantity, price, ZERO, spec.settle, "liquidation"
        )
        if fee:
            self.exchange.ledger.adjust(
                self.ts, self.account.id, spec.settle, -fee, PostingKind.LIQUIDATION_FEE, symbol
            )
        self.exchange.emit(
            Liquidated(
                self.ts,
                self.account.id,
                symbol,
                -quantity,
                price,
                fee,
                stage,
                self.trigger_ts_ms,
                self.ratio,
            )
        )

    def close_all(self, fee_rate: Decimal, stage: str) -> None:
        """Close every cross position at its price, charging ``fee_rate`` of the notional."""
        for position in self.snapshot().positions:
            fee = abs(position.size) * position.mark_price * fee_rate
            self.book(position.instrument, -position.size, position.mark_price, fee, stage)

    def hyperliquid(self, model: HyperliquidCross) -> None:
        """Backstop below 2/3 of maintenance; else market-close, 20 % of large positions first."""
        fee_rate = self.exchange.config.fees.taker
        if model.backstop_gap(self.snapshot()) < 0:
            self.backstop()
            return
        for _ in range(MAX_ROUNDS):
            snapshot = self.snapshot()
            if model.liquidation_gap(snapshot) >= 0 or not snapshot.positions:
                return
            cooling = self.ts - self.account.last_partial_liquidation_ns < 30 * 10**9
            for position in snapshot.positions:
                order = model.liquidation_order_quantity(
                    position.size, position.mark_price, in_cooldown=cooling
                )
                partial = abs(order) < abs(position.size)
                if partial:
                    self.account.last_partial_liquidation_ns = self.ts
                fee = abs(order) * position.mark_price * fee_rate
                stage = "partial" if partial else "full"
                self.book(position.instrument, order, position.mark_price, fee, stage)

    def backstop(self) -> None:
        """Hand every position and the whole cross balance to the liquidator vault (D.4).

        Positions close at their marks; what the balance would keep after that is the
        vault's, booked as the last close's fee so the event log accounts for it.
        """
        positions = self.snapshot().positions
        settle = self.model.quote
        book = self.account.book
        for i, position in enumerate(positions):
            fee = ZERO
            if i == len(positions) - 1:
                held = book.positions[position.instrument]
                kept = book.balance(settle) + held.size * position.mark_price - held.cost
                fee = max(kept, ZERO)
            self.book(position.instrument, -position.size, position.mark_price, fee, "backstop")

    def repay(self, asset: str, amount: Decimal) -> None:
        """Repay ``amount`` of the account's ``asset`` loan, interest first, as an event."""
        if amount <= 0:
            return
        interest, principal = self.exchange.ledger.repay(self.ts, self.account.id, asset, amount)
        self.exchange.emit(LoanRepaid(self.ts, self.account.id, asset, interest, principal))

    def ftx_ladder(self, model: FtxCross) -> None:
        """Chunk IOC orders while liquidating; auto-close at zero prices below the ACMF."""
        fee_rate = self.exchange.config.fees.taker
        for _ in range(MAX_ROUNDS):
            snapshot = self.snapshot()
            orders = liquidation_orders(model, snapshot)
            for order in orders:
                fee = abs(order.quantity) * order.price * fee_rate
                self.book(order.instrument, order.quantity, order.price, fee, "ladder")
            fills = auto_close_fills(model, snapshot)
            for fill in fills:
                self.book(fill.instrument, fill.quantity, fill.account_price, ZERO, "auto_close")
            if not orders and not fills:
                return

    def sell_collateral(self, model: BinanceCrossMargin) -> None:
        """Sell assets for the liabilities at the mode's fee until the margin level recovers."""
        for _ in range(MAX_ROUNDS):
            snapshot = self.snapshot()
            if model.liquidation_done(snapshot):
                return
            loan = max(
                snapshot.loans,
                key=lambda item: item.liability * _price(snapshot, item.asset, model.quote),
            )
            if loan.asset == model.quote:
                if not self._sell_largest_asset(model, snapshot, loan.asset):
                    return
            elif not self._buy_back(model, snapshot, loan.asset):
                return

    def _sell_largest_asset(
        self, model: BinanceCrossMargin, snapshot: AccountSnapshot, into: str
    ) -> bool:
        quote = model.quote
        held = [
            (amount * _price(snapshot, asset, quote), asset, amount)
            for asset, amount in snapshot.balances.items()
            if asset != into and amount > 0
        ]
        if not held:
            return False
        _, asset, amount = max(held)
        price = _price(snapshot, asset, quote)
        fee_rate = model.rules.liquidation_fee_rate
        figures = model.classic(snapshot)
        target = sale_value_to_stop(
            figures.total_assets, figures.owed, model.rules.liq_stop_ml, fee_rate
        )
        symbol = f"{asset}/{quote}"
        lot = self.spec(symbol).size_increment
        # whole lots, rounded up: the sale must lift ML above the stop, not land on it
        sold = (
            amount
            if target is None
            else min(amount, round_to_increment(target / price, lot, mode="up"))
        )
        if sold <= 0:
            return False
        fee = sold * price * fee_rate
        self.book(symbol, -sold, price, fee, "sale")
        cash = self.account.book.balance(into)
        owed = self.account.book.liability(into)
        if cash > 0 and owed > 0:
            self.repay(into, min(cash, owed))
        return True

    def _buy_back(self, model: BinanceCrossMargin, snapshot: AccountSnapshot, asset: str) -> bool:
        """Buy back the borrowed ``asset`` (and repay it) only as far as ML clears the stop."""
        quote = model.quote
        owed = self.account.book.liability(asset) - max(self.account.book.balance(asset), ZERO)
        price = _price(snapshot, asset, quote)
        cash = self.account.book.balance(quote)
        fee_rate = model.rules.liquidation_fee_rate
        affordable = cash / (price * (1 + fee_rate)) if cash > 0 else ZERO
        figures = model.classic(snapshot)
        target = buy_back_to_stop(
            figures.total_assets, figures.owed, model.rules.liq_stop_ml, fee_rate, price
        )
        lot = self.spec(f"{asset}/{quote}").size_increment
        # whole lots, rounded up: the buy-back must lift ML above the stop, not land on it
        needed = owed if target is None else round_to_increment(target, lot, mode="up")
        bought = min(owed, affordable, needed)
        if bought > 0:
            self.book(f"{asset}/{quote}", bought, price, bought * price * fee_rate, "buy_back")
        held = self.account.book.balance(asset)
        if held > 0:
            self.repay(asset, min(held, self.account.book.liability(asset)))
        return bought > 0

    def cover_deficit(self) -> None:
        """Let the insurance fund absorb negative balances and loans the account cannot pay."""
        book = self.account.book
        if any(p.size for p in book.positions.values()):
            return
        ledger = self.exchange.ledger
        for asset, amount in tuple(book.balances.items()):
            if amount < 0 and asset not in book.loans:
                ledger.adjust(self.ts, self.account.id, asset, -amount, PostingKind.INSURANCE)
                self.exchange.emit(InsuranceFundCovered(self.ts, self.account.id, asset, -amount))
        if self._has_assets():
            return
        for asset in tuple(book.loans):
            owed = book.liability(asset) - max(book.balance(asset), ZERO)
            if owed > 0:
                ledger.adjust(self.ts, self.account.id, asset, owed, PostingKind.INSURANCE)
                self.exchange.emit(InsuranceFundCovered(self.ts, self.account.id, asset, owed))
            self.repay(asset, book.liability(asset))

    def _has_assets(self) -> bool:
        book = self.account.book
        return any(
            amount > 0 and asset not in book.loans for asset, amount in book.balances.items()
        )


def _moved_price(snapshot: AccountSnapshot, exposure: Exposure) -> Decimal | None:
    if exposure.asset is not None:
        return snapshot.prices.get(exposure.asset)
    position = snapshot.position(exposure.instrument)
    return position.mark_price if position is not None else None


def _price(snapshot: AccountSnapshot, asset: str, quote: str) -> Decimal:
    return snapshot.price_of(asset, quote)

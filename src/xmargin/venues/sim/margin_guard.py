"""The venue's margin rules in the simulated exchange: order checks and liquidation triggers.

Every check goes through the account's margin model (the same code the risk engine uses to
predict). Between exact checks a float ``MarginWatch`` estimates each account's
liquidation gap on every price update, so a quiet market costs a few multiplications.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.margin.base import CrossMarginModel, Exposure, MarginState
from xmargin.margin.ftx import FtxCross
from xmargin.margin.liquidation_price import solve_price
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.instruments import Instrument, InstrumentKind
from xmargin.model.numbers import round_to_increment
from xmargin.venues.sim.accounts import SLOPE_STEP, SimAccount
from xmargin.venues.sim.conversion import convert_negative_usd, may_convert
from xmargin.venues.sim.liquidation import liquidate
from xmargin.venues.sim.markets import MarketState

if TYPE_CHECKING:
    from xmargin.venues.sim.exchange import SimulatedExchange


class MarginGuard:
    """Checks orders against initial margin and accounts against maintenance margin."""

    def __init__(self, exchange: SimulatedExchange) -> None:
        self.exchange = exchange
        self._watchers: dict[str, set[str]] = {}
        self.dirty: dict[str, SimAccount] = {}

    # -- order checks ----------------------------------------------------------------------

    def margin_rejection(
        self,
        account: SimAccount,
        spec: Instrument,
        signed: Decimal,
        price: Decimal,
        order_id: str | None = None,
    ) -> str | None:
        """Return why adding ``signed`` of ``spec`` at ``price`` breaks initial margin, or None.

        The account's other working orders keep the margin they reserve; ``order_id``, the
        order being filled, does not count against itself.
        """
        model = account.model
        priced = (spec.base,) if spec.kind is InstrumentKind.SPOT else ()
        before = self.exchange.snapshot(account, also=priced, excluding=order_id)
        held = before.position(spec.symbol)
        if held is not None and held.size * signed < 0 and abs(signed) <= abs(held.size):
            return None
        fee_rate = self.exchange.config.fees.taker
        after = model.apply_fill(before, spec.symbol, signed, price, fee_rate)
        gap = model.initial_gap(after)
        if gap >= 0:
            return None
        return f"insufficient margin: free collateral after it would be {gap:.2f} {model.quote}"

    def spot_rejection(
        self, account: SimAccount, market: MarketState, signed: Decimal, price: Decimal | None
    ) -> str | None:
        """Spot orders need the asset they give up, unless the account borrows automatically
        (or, on FTX with spot margin, keeps its initial margin with the negative balance)."""
        spec = market.spec
        reference = price if price is not None else market.last_exact()
        if signed > 0:
            asset, needed = spec.quote, signed * reference
        else:
            asset, needed = spec.base, -signed
        available = account.book.balance(asset)
        if available >= needed:
            return None
        model = account.model
        if isinstance(model, FtxCross) and model.spot_margin_enabled:
            # FTX spot margin: the shortfall becomes a negative balance (spec A.8)
            return self.margin_rejection(account, spec, signed, reference)
        shortfall = needed - available
        return self.exchange.desk.auto_borrow_rejection(account, asset, shortfall)

    # -- liquidation triggers --------------------------------------------------------------

    def mark_dirty(self, account: SimAccount) -> None:
        self.dirty[account.id] = account

    def watches(self, market: str) -> bool:
        """Whether any account's liquidation watch depends on ``market``."""
        return bool(self._watchers.get(market))

    def after_fill(self, account: SimAccount) -> None:
        self.recheck(account, self.exchange.clock.now_ns())

    def risk_pass(self, ts: int) -> None:
        while self.dirty:
            _, account = self.dirty.popitem()
            self.recheck(account, ts)

    def on_price_move(
        self,
        market: str,
        open_price: float,
        low: float,
        high: float,
        close: float,
        ts_open: int,
        held_since: int | None = None,
    ) -> None:
        """A market moved over an interval: check each watching account at the interval's
        adverse extreme (spec §0.4), then move its estimate to the close.

        ``held_since``: a coarse mark interval opening then, which acts only on exposure
        held for all of it; an account whose exposure to ``market`` opened or grew inside
        it was judged on the finer path and here only moves to the close (decision 0003).
        """
        watchers = self._watchers.get(market)
        if not watchers:
            return
        accounts = self.exchange.accounts
        for account_id in tuple(watchers):
            account = accounts[account_id]
            watch = account.watch
            if held_since is not None and account.grown_ns.get(market, held_since) > held_since:
                watch.move(market, close)
            else:
                extreme = watch.observe(market, low, high, close)
                if extreme is not None:
                    self._check_extreme(account, market, open_price, extreme, ts_open)
            # FTX's conversion triggers (spec A.6) are checked exactly on every update
            if watch.estimate <= watch.threshold or (account.converts and may_convert(account)):
                self.mark_dirty(account)

    def _check_extreme(
        self, account: SimAccount, market: str, open_price: float, extreme: float, ts_open: int
    ) -> None:
        exposure = self._exposure(account, market)
        if exposure is None:
            return
        spec = self.exchange.markets[market].spec
        snapshot = self.exchange.snapshot(account)
        model = account.model
        worst = spec.make_mark(extreme)
        if not _liquidatable(model, exposure.moved(snapshot, worst)):
            return
        opened = spec.make_mark(open_price)
        if _liquidatable(model, exposure.moved(snapshot, opened)):
            price = opened
        else:
            solved = solve_price(
                lambda p: model.liquidation_gap(exposure.moved(snapshot, p)), opened
            )
            price = (
                worst
                if solved is None
                else self._first_liquidating(
                    model, snapshot, exposure, solved, spec.mark_increment, falling=worst < opened
                )
            )
        trigger_ms = ts_open // 1_000_000
        liquidate(self.exchange, account, exposure.moved(snapshot, price), exposure, trigger_ms)
        self.recheck(account, self.exchange.clock.now_ns())

    @staticmethod
    def _first_liquidating(
        model: CrossMarginModel,
        snapshot: AccountSnapshot,
        exposure: Exposure,
        solved: Decimal,
        increment: Decimal,
        *,
        falling: bool,
    ) -> Decimal:
        """Return the first price on the mark grid, moving from the open toward the adverse
        extreme, at which the venue liquidates: the solved root rounded the adverse way,
        one more step where the venue's rule is strict (FTX, Hyperliquid) and the root is
        exactly on the grid."""
        step = -increment if falling else increment
        price = round_to_increment(solved, increment, mode="down" if falling else "up")
        if not _liquidatable(model, exposure.moved(snapshot, price)):
            price += step
        return price

    def liquidates_at(self, account: SimAccount, market: str, price: Decimal) -> bool:
        """Return whether ``market`` at ``price``, all else as now, liquidates ``account``."""
        exposure = self._exposure(account, market)
        if exposure is None:
            return False
        return _liquidatable(account.model, exposure.moved(self.exchange.snapshot(account), price))

    def _exposure(self, account: SimAccount, market: str) -> Exposure | None:
        snapshot = self.exchange.snapshot(account)
        for exposure in account.model.exposures(snapshot):
            if self._market_of(account, exposure) == market:
                return exposure
        return None

    def recheck(self, account: SimAccount, ts: int) -> None:
        """Check the account exactly; liquidate it if it must be, else re-linearise its watch."""
        self.dirty.pop(account.id, None)
        if not account.has_exposure():
            self._unwatch(account)
            account.watch.clear()
            return
        if may_convert(account):
            convert_negative_usd(self.exchange, account)
        snapshot = self.exchange.snapshot(account)
        model = account.model
        gap = model.liquidation_gap(snapshot)
        if _liquidatable(model, snapshot, gap):
            liquidate(self.exchange, account, snapshot, None, _ms(ts))
            snapshot = self.exchange.snapshot(account)
            if not account.has_exposure():
                self._unwatch(account)
                account.watch.clear()
                return
            gap = model.liquidation_gap(snapshot)
        self._relinearise(account, snapshot, gap)

    def _relinearise(self, account: SimAccount, snapshot: AccountSnapshot, gap: Decimal) -> None:
        model = account.model
        slopes: dict[str, float] = {}
        prices: dict[str, float] = {}
        for exposure in model.exposures(snapshot):
            market = self._market_of(account, exposure)
            if market not in self.exchange.markets:
                continue
            step = exposure.price * SLOPE_STEP
            moved = model.liquidation_gap(exposure.moved(snapshot, exposure.price + step))
            slopes[market] = float((moved - gap) / step)
            prices[market] = float(exposure.price)
        self._unwatch(account)
        for market in slopes:
            self._watchers.setdefault(market, set()).add(account.id)
        account.watch.reset(float(gap), slopes, prices)

    def _unwatch(self, account: SimAccount) -> None:
        for market in account.watch.slopes:
            watchers = self._watchers.get(market)
            if watchers is not None:
                watchers.discard(account.id)

    @staticmethod
    def _market_of(account: SimAccount, exposure: Exposure) -> str:
        if exposure.asset is None:
            return exposure.instrument
        return f"{exposure.asset}/{account.quote}"


LIQUIDATING_STATES = frozenset(
    {MarginState.LIQUIDATING, MarginState.AUTO_CLOSE, MarginState.BACKSTOP}
)


def _liquidatable(
    model: CrossMarginModel, snapshot: AccountSnapshot, gap: Decimal | None = None
) -> bool:
    """Whether the venue liquidates the account: always below a zero gap; at exactly zero
    only where its rule is inclusive (USDⓈ-M ratio ≥ 1, Binance margin ML ≤ 1.1), not where
    it is strict (FTX MF < MMF, Hyperliquid AV < MM)."""
    gap = model.liquidation_gap(snapshot) if gap is None else gap
    if gap != 0:
        return gap < 0
    return model.headline(snapshot)[0] in LIQUIDATING_STATES


def _ms(ts: int) -> int:
    return ts // 1_000_000

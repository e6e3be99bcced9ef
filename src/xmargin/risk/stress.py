"""Stress scenarios evaluated exactly, through the account's own venue margin model.

A scenario shocks asset prices (one set of shocks, or a path of anchors of which the worst
for the account is reported), may charge a funding spike and a closing cost, and may run a
liquidation cascade (``stress_liquidation``). Every figure is the margin model's own, in
``Decimal``, on the shocked snapshot.

Conventions:

- A shock on asset ``A`` moves every position whose base is ``A`` (its mark is scaled by the
  same ratio) and ``A``'s valuation price in ``account.prices``. ``A=PRICE`` sets ``A``'s
  reference price, in the account's quote currency, to ``PRICE``; ``A=-20%`` scales it by 0.8.
  The reference price is ``prices[A]``, else the mark of a position on ``A`` quoted in the
  account's quote, else of any position on ``A``. Marks of instruments quoted in another
  coin (``BTC/USDC:USDC`` in a USDT account) are scaled by the same ratio.
- ``*`` stands for every non-stablecoin asset of the account; explicit entries win over it.
- A stablecoin shock moves that coin's valuation as collateral (e.g. USDC in Multi-Assets
  mode or in a Bybit UTA, where USDC-settled PnL is converted at that price) and the marks of
  instruments on that base; marks *quoted* in the coin are left alone (shock the base too to
  move them). A shock on the account's own quote currency changes nothing inside the account
  (it is the unit of account) and is reported as a note.
- An asset the account does not hold is an error for ``--shock`` (``strict``) and a note for
  named or file scenarios, which are written for any account.
- ``loss = base equity − scenario equity`` in the quote currency (positive is a loss), using
  the model's equity figure (collateral-weighted for FTX, Bybit and Multi-Assets).
- Funding spike: ``periods`` payments of ``rate`` (default: the venue's 8-hour cap, see
  ``funding_cap_8h``) on the notional of every perpetual, charged as a loss whatever the side.
- Closing cost: closing every position and every non-stablecoin spot holding or borrow costs
  ``bps`` of its notional. Both charges are debited from the settle asset (the quote when the
  model holds no balance of it; a Binance Cross Margin shortfall becomes a loan).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from xmargin.core.errors import ConfigError
from xmargin.margin.base import CrossMarginModel, MarginReport, MarginState, RatioKind
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.hyperliquid import HyperliquidCross
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot
from xmargin.model.instruments import InstrumentKind
from xmargin.model.numbers import ONE, ZERO
from xmargin.risk.stress_liquidation import (
    BPS,
    CascadeModel,
    Liquidation,
    equity_of,
    instrument_spec,
    liquidation_orders,
    move_asset,
    run_cascade,
)

ALL_ASSETS = "*"
STABLECOINS = frozenset(
    {"USDT", "USDC", "FDUSD", "TUSD", "USDP", "USD1", "DAI", "BUSD", "UST", "USTC", "PYUSD"}
    | {"USDE", "FRAX", "GUSD", "USDD", "LUSD", "USD"}
)
DEFAULT_FUNDING_CAP_8H = Decimal("0.003")
_PERPETUALS = (InstrumentKind.LINEAR_PERPETUAL, InstrumentKind.INVERSE_PERPETUAL)


class ShockKind(StrEnum):
    PRICE = "price"  # set the reference price (in the account's quote currency)
    CHANGE = "change"  # scale it by 1 + value


@dataclass(frozen=True, slots=True)
class Shock:
    """A move of one asset (``*``: every non-stablecoin asset)."""

    asset: str
    kind: ShockKind
    value: Decimal

    def __post_init__(self) -> None:
        if self.kind is ShockKind.PRICE and self.value <= 0:
            raise ConfigError(f"{self.asset}: a price must be positive, got {self.value}")
        if self.kind is ShockKind.CHANGE and self.value <= -1:
            raise ConfigError(f"{self.asset}: a change must be above -100%, got {self}")

    def __str__(self) -> str:
        if self.kind is ShockKind.PRICE:
            return f"{self.asset}={self.value.normalize():f}"
        return f"{self.asset}={(self.value * 100).normalize():+f}%"


@dataclass(frozen=True, slots=True)
class Step:
    """One anchor of a scenario's path: a label and its shocks."""

    label: str
    shocks: tuple[Shock, ...]


@dataclass(frozen=True, slots=True)
class FundingSpike:
    """``periods`` funding payments at ``rate`` (None: the venue's 8-hour cap) per perpetual."""

    periods: int
    rate: Decimal | None = None


@dataclass(frozen=True)
class Scenario:
    """A named stress: shocks (or a path of anchors), charges and an optional cascade."""

    name: str
    shocks: tuple[Shock, ...] = ()
    description: str = ""
    path: tuple[Step, ...] = ()
    funding: FundingSpike | None = None
    closing_cost_bps: Decimal | None = None
    cascade: CascadeModel | None = None

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.path or (Step("", self.shocks),)

    @classmethod
    def from_moves(cls, name: str, moves: Mapping[str, Decimal]) -> Scenario:
        """Build a scenario that multiplies each asset's price by its factor."""
        shocks = tuple(Shock(a, ShockKind.CHANGE, m - 1) for a, m in moves.items() if m != 1)
        return cls(name, shocks)


@dataclass(frozen=True, slots=True)
class NearestLiquidation:
    """The exposure closest to its liquidation price (all else fixed) and how far it is."""

    instrument: str
    price: Decimal
    liquidation_price: Decimal
    distance: Decimal  # liquidation_price / price − 1


@dataclass(frozen=True, slots=True)
class PathPoint:
    label: str
    equity: Decimal
    margin_ratio: Decimal | None
    state: MarginState


@dataclass(frozen=True)
class ScenarioResult:
    """The account at the end of a scenario (after its liquidation rounds for a cascade)."""

    name: str
    description: str
    prices: Mapping[str, Decimal]
    base_equity: Decimal
    shocked_equity: Decimal  # after shocks and charges, before any liquidation is booked
    equity: Decimal
    margin_ratio: Decimal | None
    ratio_kind: RatioKind
    state: MarginState
    liquidation_gap: Decimal
    nearest: NearestLiquidation | None
    liquidations: tuple[Liquidation, ...]
    charges: Mapping[str, Decimal]
    notes: tuple[str, ...] = ()
    path: tuple[PathPoint, ...] = ()
    rounds: int | None = None
    converged: bool | None = None
    bad_debt: Decimal = ZERO
    step: str = ""

    @property
    def loss(self) -> Decimal:
        return self.base_equity - self.equity

    @property
    def liquidated(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(fill.instrument for fill in self.liquidations))


def risk_assets(model: CrossMarginModel, account: AccountSnapshot) -> tuple[str, ...]:
    """Return every asset (but the quote) whose price the account's margin depends on."""
    quote = model.quote
    found: list[str] = []
    for position in account.positions:
        spec = instrument_spec(position.instrument)
        found.append(spec.base)
        if spec.settle in account.prices:
            found.append(spec.settle)
    found += [asset for asset, amount in account.balances.items() if amount]
    found += [loan.asset for loan in account.loans]
    for order in account.orders:
        spec = instrument_spec(order.instrument)
        found += [spec.base, spec.quote]
    assets = dict.fromkeys(a for a in found if a != quote)
    return tuple(sorted(a for a in assets if reference_price(account, quote, a) is not None))


def reference_price(account: AccountSnapshot, quote: str, asset: str) -> Decimal | None:
    """Return the price a shock of ``asset`` is measured against (None: not in the account)."""
    if asset == quote:
        return ONE
    if asset in account.prices:
        return account.prices[asset]
    fallback = None
    for position in account.positions:
        spec = instrument_spec(position.instrument)
        if spec.base == asset:
            if spec.quote == quote:
                return position.mark_price
            fallback = fallback or position.mark_price
    return fallback


def resolve_shocks(
    model: CrossMarginModel,
    account: AccountSnapshot,
    shocks: Iterable[Shock],
    *,
    strict: bool = False,
    where: str = "scenario",
) -> tuple[dict[str, tuple[Decimal, Decimal]], list[str]]:
    """Turn shocks into ``asset → (numerator, denominator)`` price ratios, plus notes."""
    quote = model.quote
    ordered = sorted(shocks, key=lambda s: s.asset != ALL_ASSETS)
    moves: dict[str, tuple[Decimal, Decimal]] = {}
    notes: list[str] = []
    skipped: list[str] = []
    for shock in ordered:
        if shock.asset == ALL_ASSETS:
            targets = [a for a in risk_assets(model, account) if a not in STABLECOINS]
        else:
            targets = [shock.asset]
        for asset in targets:
            if asset == quote:
                notes.append(
                    f"{shock}: {quote} is the account's quote currency; the account is "
                    f"measured in {quote}, so its de-peg changes nothing inside the account"
                )
                continue
            reference = reference_price(account, quote, asset)
            if reference is None:
                if strict:
                    known = ", ".join((quote, *risk_assets(model, account)))
                    raise ConfigError(
                        f"unknown asset {asset} in {shock} (this account has {known})",
                        where=where,
                    )
                skipped.append(str(shock))
                continue
            if shock.kind is ShockKind.PRICE:
                moves[asset] = (shock.value, reference)
            else:
                moves[asset] = (1 + shock.value, ONE)
    if skipped:
        notes.append(f"not in this account, skipped: {', '.join(skipped)}")
    return moves, notes


def move_prices(
    account: AccountSnapshot, moves: Mapping[str, tuple[Decimal, Decimal]]
) -> AccountSnapshot:
    """Scale every asset's valuation price and marks by its ``(numerator, denominator)``."""
    for asset, (numerator, denominator) in moves.items():
        account = move_asset(account, asset, numerator, denominator)
    return account


def funding_cap_8h(model: CrossMarginModel, instrument: str) -> Decimal:
    """Return the venue's funding cap per 8 hours, the default rate of a funding spike.

    Binance USDⓈ-M: the symbol's first-tier MMR (spec §C.1 [assumption]); Bybit: the same
    rule [assumption]; Hyperliquid: 8 × its hourly cap (4 %/h, so 32 %: a severe spike);
    FTX (no cap) and others: 0.3 % [assumption, Binance BTCUSDT's cap].
    """
    if isinstance(model, BinanceUsdmCross | BybitUtaCross):
        return model.table(instrument).tiers[0].mmr
    if isinstance(model, HyperliquidCross):
        return model.funding_cap_hourly * 8
    return DEFAULT_FUNDING_CAP_8H


def debit(
    model: CrossMarginModel, account: AccountSnapshot, asset: str, amount: Decimal
) -> AccountSnapshot:
    """Charge ``amount`` of ``asset`` (the quote when the model keeps no balance of it)."""
    if not model.knows_asset(asset):
        asset = model.quote
    held = account.balance(asset)
    if not isinstance(model, BinanceCrossMargin):
        return account.with_balance(asset, held - amount)
    paid = min(max(held, ZERO), amount)
    account = account.with_balance(asset, held - paid)
    if amount > paid:
        loan = account.loan(asset) or LoanSnapshot(asset, ZERO)
        account = account.with_loan(
            LoanSnapshot(asset, loan.principal + amount - paid, loan.interest)
        )
    return account


def apply_charges(
    model: CrossMarginModel, account: AccountSnapshot, scenario: Scenario
) -> tuple[AccountSnapshot, dict[str, Decimal]]:
    """Debit the scenario's funding spike and closing cost; return them (in quote units)."""
    charges: dict[str, Decimal] = {}
    if scenario.funding is not None:
        total = ZERO
        for position in account.positions:
            spec = instrument_spec(position.instrument)
            if spec.kind not in _PERPETUALS or not position.size:
                continue
            rate = scenario.funding.rate
            rate = funding_cap_8h(model, position.instrument) if rate is None else rate
            amount = position.notional * rate * scenario.funding.periods
            account = debit(model, account, spec.settle, amount)
            total += amount
        charges["funding"] = total
    if scenario.closing_cost_bps is not None:
        total = ZERO
        for exposure in model.exposures(account):
            if exposure.asset in STABLECOINS:
                continue
            cost = abs(exposure.size) * exposure.price * scenario.closing_cost_bps / BPS
            settle = instrument_spec(exposure.instrument).settle
            account = debit(model, account, model.quote if exposure.asset else settle, cost)
            total += cost
        charges["closing_cost"] = total
    return account, charges


def nearest_liquidation(report: MarginReport) -> NearestLiquidation | None:
    """Return the exposure whose liquidation price is the smallest relative move away."""
    best: NearestLiquidation | None = None
    for row in report.exposures:
        if row.liquidation_price is None or not row.price:
            continue
        distance = row.liquidation_price / row.price - 1
        if best is None or abs(distance) < abs(best.distance):
            best = NearestLiquidation(row.instrument, row.price, row.liquidation_price, distance)
    return best


def evaluate(
    model: CrossMarginModel,
    account: AccountSnapshot,
    scenario: Scenario,
    *,
    strict: bool = False,
    where: str = "scenario",
) -> ScenarioResult:
    """Evaluate ``scenario`` on ``account`` exactly; with a path, its worst anchor."""
    base_equity = equity_of(model, account)
    quote = model.quote
    candidates = []
    for step in scenario.steps:
        moves, notes = resolve_shocks(model, account, step.shocks, strict=strict, where=where)
        shocked, charges = apply_charges(model, move_prices(account, moves), scenario)
        candidates.append((equity_of(model, shocked), step, shocked, moves, charges, notes))
    path: tuple[PathPoint, ...] = ()
    if len(candidates) > 1:
        points = []
        for equity, step, snap, *_ in candidates:
            state, ratio = model.headline(snap)
            points.append(PathPoint(step.label, equity, ratio, state))
        path = tuple(points)
    equity, step, shocked, moves, charges, notes = min(candidates, key=lambda c: c[0])
    prices = {}
    for asset, (numerator, denominator) in moves.items():
        reference = reference_price(account, quote, asset) or ONE
        prices[asset] = reference * numerator / denominator
    rounds = converged = None
    bad_debt = ZERO
    if scenario.cascade is not None:
        run = run_cascade(model, shocked, scenario.cascade)
        final, fills = run.account, run.liquidations
        rounds, converged, bad_debt = run.rounds, run.converged, run.bad_debt
        if bad_debt:
            notes.append(f"bad debt of {bad_debt:.2f} {quote} absorbed by the insurance fund")
    else:
        final = shocked
        fills = tuple(
            Liquidation(o.instrument, o.quantity, o.price, o.stage, 1)
            for o in liquidation_orders(model, shocked)
        )
    report = model.assess(final)
    return ScenarioResult(
        name=scenario.name,
        description=scenario.description,
        prices=prices,
        base_equity=base_equity,
        shocked_equity=equity,
        equity=report.equity,
        margin_ratio=report.margin_ratio,
        ratio_kind=report.margin_ratio_kind,
        state=report.state,
        liquidation_gap=model.liquidation_gap(final),
        nearest=nearest_liquidation(report),
        liquidations=fills,
        charges=charges,
        notes=tuple(dict.fromkeys(notes)),
        path=path,
        rounds=rounds,
        converged=converged,
        bad_debt=bad_debt,
        step=step.label,
    )

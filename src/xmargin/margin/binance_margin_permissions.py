"""What a Binance Cross Margin account may do: trade, borrow, transfer out (spec §B.3, B.5).

Classic: borrow iff the post-borrow ``CML ≥ borrow_cml_threshold`` and transfer out iff
the post-transfer ``CML ≥ transfer_cml_threshold`` **[assumption: the venue states the
thresholds on the current state; checking the post-action state inclusively implements
the leverage cap exactly — 3x: TL ≤ 2 × equity, 5x: TL ≤ 4 × equity]**. The post-borrow
CML counts the new principal, not the first-hour interest the borrow then charges.
Pro: both are allowed iff afterwards ``net collateral − open-order loss ≥ Σ IM`` (the
margin level stays at or above the initial risk ratio ``Σ IM / Σ MM``) **[assumption]**.
Trading is allowed unless liquidating; nothing may be borrowed while liquidating.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.margin.base import MarginState
from xmargin.margin.binance_margin_loans import borrow, loan_of
from xmargin.margin.capacity import max_fill_size
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.numbers import ZERO

if TYPE_CHECKING:
    from xmargin.margin.binance_margin import BinanceCrossMargin


@dataclass(frozen=True, slots=True)
class MarginPermissions:
    """What the account may do in its current state (the venue's table, strict thresholds)."""

    trade: bool
    borrow: bool
    transfer_out: bool


def permissions(model: BinanceCrossMargin, account: AccountSnapshot) -> MarginPermissions:
    """Read the permissions off the current state: Classic CML above each threshold."""
    if model.state(account) is MarginState.LIQUIDATING:
        return MarginPermissions(trade=False, borrow=False, transfer_out=False)
    if not account.loans:
        return MarginPermissions(trade=True, borrow=True, transfer_out=True)
    rules = model.rules
    if rules.borrow_cml_threshold is None or rules.transfer_cml_threshold is None:
        headroom = model.initial_gap(account) > 0
        return MarginPermissions(trade=True, borrow=headroom, transfer_out=headroom)
    cml = model.classic(account).collateral_margin_level
    assert cml is not None
    return MarginPermissions(
        trade=True,
        borrow=cml > rules.borrow_cml_threshold,
        transfer_out=cml > rules.transfer_cml_threshold,
    )


def can_borrow(
    model: BinanceCrossMargin, account: AccountSnapshot, asset: str, amount: Decimal
) -> bool:
    """Return whether a borrow of ``amount`` passes the limit and the post-borrow margin rule."""
    if amount <= 0 or model.state(account) is MarginState.LIQUIDATING:
        return False
    limit = model.borrow_limits.get(asset)
    if limit is not None and loan_of(account, asset).principal + amount > limit:
        return False
    return model.initial_gap(borrow(account, asset, amount, ZERO)) >= 0


def max_borrow(model: BinanceCrossMargin, account: AccountSnapshot, asset: str) -> Decimal:
    """Return the largest amount of ``asset`` that ``can_borrow`` accepts."""
    if model.state(account) is MarginState.LIQUIDATING:
        return ZERO
    threshold = model.rules.borrow_cml_threshold
    if threshold is None:
        largest = max_fill_size(
            lambda b: model.initial_gap(borrow(account, asset, b, ZERO) if b > 0 else account),
            ZERO,
        )
    else:
        price = account.price_of(asset, model.quote)
        # CV + B·p·r ≥ t·(owed + B·p)  ⇔  B ≤ (CV − t·owed) / (p·(t − r))
        per_unit = price * (threshold - model.collateral_ratio(asset))
        largest = max(ZERO, model.initial_gap(account) / per_unit)
    limit = model.borrow_limits.get(asset)
    if limit is not None:
        largest = min(largest, max(ZERO, limit - loan_of(account, asset).principal))
    return largest


def can_transfer_out(
    model: BinanceCrossMargin, account: AccountSnapshot, asset: str, amount: Decimal
) -> bool:
    """Return whether ``amount`` of ``asset`` may leave the margin account."""
    held = account.balance(asset)
    if amount <= 0 or amount > held:
        return False
    after = account.with_balance(asset, held - amount)
    if not after.loans:
        return True
    return _transfer_gap(model, after) >= 0


def max_transfer_out(model: BinanceCrossMargin, account: AccountSnapshot, asset: str) -> Decimal:
    """Return the largest amount of ``asset`` that ``can_transfer_out`` accepts."""
    held = account.balance(asset)
    if not account.loans:
        return held
    gap = _transfer_gap(model, account)
    if gap < 0:
        return ZERO
    per_unit = account.price_of(asset, model.quote) * model.collateral_ratio(asset)
    return held if per_unit == 0 else min(held, gap / per_unit)


def _transfer_gap(model: BinanceCrossMargin, account: AccountSnapshot) -> Decimal:
    """Classic: ``CV − transfer_cml_threshold × (TL + TI)``; Pro: the initial gap."""
    threshold = model.rules.transfer_cml_threshold
    if threshold is None:
        return model.initial_gap(account)
    figures = model.classic(account)
    return figures.collateral_value - threshold * figures.owed

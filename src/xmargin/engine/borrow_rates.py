"""Every asset a lending venue can lend must have a borrow rate before the run starts.

A venue lends where its accounts hold margin loans or negative balances that pay interest:
Binance Cross Margin, Bybit UTA, and FTX with spot margin enabled (spec A.5, B.3). The assets
it can lend in a run are the bases and quotes of its spot instruments and the assets its
accounts hold. Each needs an hourly rate: the venue's ``interest_rates``, the margin model's own
per-asset table (Binance Cross Margin), or a default the config sets (the venue's
``default_interest_rate``, or the Binance model's ``params.default_hourly_rate``). Without one,
interest would silently be zero or an unlisted default, so it is a ``ConfigError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from xmargin.core.errors import ConfigError
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.ftx import FtxCross, RuleSet
from xmargin.model.instruments import Instrument, InstrumentKind


def lends(model: CrossMarginModel) -> bool:
    """Whether the model's accounts borrow at an hourly rate the run must supply."""
    if isinstance(model, BinanceCrossMargin | BybitUtaCross):
        return True
    return (
        isinstance(model, FtxCross)
        and model.spot_margin_enabled
        and model.rule_set is RuleSet.SPOT_MARGIN_ERA
    )


def lendable_assets(
    instruments: Iterable[Instrument], balances: Iterable[Mapping[str, Decimal]]
) -> list[str]:
    """The bases and quotes of the spot instruments and the assets held, sorted."""
    assets = {asset for held in balances for asset in held}
    for spec in instruments:
        if spec.kind is InstrumentKind.SPOT:
            assets.update((spec.base, spec.quote))
    return sorted(assets)


def check_borrow_rates(
    model: CrossMarginModel,
    rates: Mapping[str, Decimal],
    default_set: bool,
    assets: Iterable[str],
    where: str,
) -> None:
    """Raise ``ConfigError`` naming the first lendable asset without an hourly rate."""
    if default_set or not lends(model):
        return
    own = model.hourly_rates if isinstance(model, BinanceCrossMargin) else {}
    for asset in assets:
        if asset not in rates and asset not in own:
            raise ConfigError(
                f"no borrow rate for {asset} on this {model.venue} venue: set "
                f"interest_rates.{asset} (hourly) or default_interest_rate",
                where=f"{where}.interest_rates",
            )

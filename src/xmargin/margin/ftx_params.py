"""Build ``ftx_cross`` from an account file's ``params``, merging market and coin tables.

An account file may override any field of a packaged market or coin, or add new ones::

    [params.markets."BTC/USD:USD"]
    imf_factor = 0.0025
    [params.coins.SOL]
    total_weight = 0.9
    initial_weight = 0.85
    imf_factor = 0.004
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from xmargin.core.errors import ConfigError
from xmargin.margin.ftx import ConversionTarget, FtxCross, RuleSet
from xmargin.margin.ftx_markets import FtxCoin, FtxMarket, default_coins, default_markets
from xmargin.margin.params import ParamReader
from xmargin.model.instruments import InstrumentKind, parse_symbol
from xmargin.model.numbers import ONE, ZERO


def ftx_cross_from_params(reader: ParamReader) -> FtxCross:
    """Build the model from an account file's ``params`` table."""
    return FtxCross(
        markets=read_markets(reader),
        coins=read_coins(reader),
        account_leverage=reader.decimal(
            "account_leverage", Decimal(20), minimum=ONE, maximum=Decimal(101)
        ),
        base_mmf=reader.decimal("base_mmf", Decimal("0.03"), strictly_positive=True, maximum=ONE),
        mmf_slope=_fraction(reader, "mmf_slope", Decimal("0.6")),
        acmf_offset=_fraction(reader, "acmf_offset", Decimal("0.06")),
        spot_margin_enabled=reader.boolean("spot_margin_enabled", False),
        rule_set=RuleSet(reader.choice("rule_set", RuleSet.SPOT_MARGIN_ERA, tuple(RuleSet))),
        conv_mmf_buffer=_fraction(reader, "conv_mmf_buffer", Decimal("0.002")),
        conv_abs_usd=reader.decimal("conv_abs_usd", Decimal(30000), minimum=ZERO),
        conv_ratio=reader.decimal("conv_ratio", Decimal(4), strictly_positive=True),
        conversion_target=ConversionTarget(
            reader.choice(
                "conversion_target", ConversionTarget.CLEAR_TRIGGERS, tuple(ConversionTarget)
            )
        ),
        conversion_buffer=_fraction(reader, "conversion_buffer", Decimal("0.01")),
        legacy_free_usd=reader.decimal("legacy_free_usd", Decimal(30000), minimum=ZERO),
        legacy_daily_rate=reader.decimal("legacy_daily_rate", Decimal("0.001"), minimum=ZERO),
        borrow_markup_per_taker_fee=reader.decimal(
            "borrow_markup_per_taker_fee", Decimal(500), minimum=ZERO
        ),
        blp_share=_fraction(reader, "blp_share", Decimal(2) / Decimal(3)),
        funding_period_hours=reader.decimal("funding_period_hours", ONE, strictly_positive=True),
        liq_min_notional=reader.decimal("liq_min_notional", Decimal(1000), minimum=ZERO),
        liq_chunk_fraction=reader.decimal(
            "liq_chunk_fraction", Decimal("0.10"), strictly_positive=True, maximum=ONE
        ),
        liq_price_offset=_fraction(reader, "liq_price_offset", Decimal("0.0003")),
        taker_fee_rate=reader.decimal("taker_fee_rate", Decimal("0.0007"), minimum=ZERO),
    )


def _fraction(reader: ParamReader, key: str, default: Decimal) -> Decimal:
    return reader.decimal(key, default, minimum=ZERO, maximum=ONE)


def read_markets(reader: ParamReader, key: str = "markets") -> dict[str, FtxMarket]:
    """Merge ``params.markets`` over the packaged markets, field by field."""
    markets = default_markets()
    for symbol, raw in reader.table(key).items():
        where = reader.location(f"{key}.{symbol}")
        _check_futures_symbol(symbol, where)
        fields = _sub_reader(raw, where, markets.get(symbol), ("imf_factor",))
        base = markets.get(symbol) or FtxMarket(ZERO)
        markets[symbol] = FtxMarket(
            imf_factor=fields.decimal("imf_factor", base.imf_factor, minimum=ZERO),
            imf_weight=fields.decimal("imf_weight", base.imf_weight, strictly_positive=True),
            mmf_weight=fields.decimal("mmf_weight", base.mmf_weight, strictly_positive=True),
        )
        fields.finish()
    return markets


def read_coins(reader: ParamReader, key: str = "coins") -> dict[str, FtxCoin]:
    """Merge ``params.coins`` over the packaged coins; a new coin needs both weights."""
    coins = default_coins()
    for coin, raw in reader.table(key).items():
        where = reader.location(f"{key}.{coin}")
        required = ("total_weight", "initial_weight")
        fields = _sub_reader(raw, where, coins.get(coin), required)
        base = coins.get(coin) or FtxCoin(ONE, ONE)
        total = fields.decimal("total_weight", base.total_weight, strictly_positive=True)
        initial = fields.decimal("initial_weight", base.initial_weight, strictly_positive=True)
        factor = fields.decimal("imf_factor", base.imf_factor, minimum=ZERO)
        fields.finish()
        if not initial <= total <= ONE:
            raise ConfigError(
                f"weights must satisfy initial_weight <= total_weight <= 1, got {initial} and "
                f"{total}",
                where=where,
            )
        coins[coin] = FtxCoin(total, initial, factor)
    return coins


def _sub_reader(
    raw: object, where: str, known: object | None, required: tuple[str, ...]
) -> ParamReader:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"must be a table of numbers, got {raw!r}", where=where)
    missing = [name for name in required if name not in raw]
    if known is None and missing:
        raise ConfigError(f"a new entry needs {', '.join(missing)}", where=where)
    return ParamReader(raw, where=where)


def _check_futures_symbol(symbol: str, where: str) -> None:
    try:
        kind = parse_symbol(symbol).kind
    except ValueError as exc:
        raise ConfigError(str(exc), where=where) from None
    if kind not in (InstrumentKind.LINEAR_PERPETUAL, InstrumentKind.DATED_FUTURE):
        raise ConfigError(f"{symbol} is not a linear futures market", where=where)

"""The ``[risk]`` table: safe defaults, every new section, and errors that name the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.core.errors import ConfigError
from xmargin.risk.settings import parse_risk

D = Decimal


def test_an_empty_table_gives_the_safe_defaults():
    settings = parse_risk({}, "risk")
    assert (settings.max_leverage, settings.margin_buffer) == (D(10), D("1.25"))
    assert [(b.name, b.limit, b.action.value) for b in settings.breakers] == [
        ("daily_loss", D("0.10"), "halted"),
        ("max_drawdown", D("0.30"), "halted"),
    ]
    assert settings.liquidation_buffer is None and settings.fences == ()
    assert settings.stops.mode == "auto"
    assert settings.sizing.kelly_fraction == D("0.25") and settings.sizing.min_trades == 30
    controls = dict(settings.describe())
    assert controls["max_leverage"] == "10" and controls["breaker daily_loss"] == "0.10 → halted"


def test_liquidation_buffer_as_a_number_or_a_table():
    short = parse_risk({"liquidation_buffer": 2}, "risk").liquidation_buffer
    assert short is not None and (short.multiple, short.restore_to) == (D(2), D("2.50"))
    assert short.half_spread.for_instrument("BTC/USDT:USDT") == D("0.0005")
    table = {"multiple": "3", "restore_to": "4", "half_spread": {"*": "0.001", "X/Y:Y": "0.01"}}
    full = parse_risk({"liquidation_buffer": table}, "risk").liquidation_buffer
    assert full is not None and (full.multiple, full.restore_to) == (D(3), D(4))
    assert full.half_spread.for_instrument("X/Y:Y") == D("0.01")
    assert full.half_spread.for_instrument("A/B:B") == D("0.001")
    assert parse_risk({"liquidation_buffer": 0}, "risk").liquidation_buffer is None


def test_fences_and_sizing_are_read():
    settings = parse_risk(
        {
            "sizing": {"kelly_fraction": "0.5", "min_trades": 10},
            "stops": {"mode": "emulated"},
            "fences": [{"strategy": "a", "collateral": "100", "max_loss": "10"}],
        },
        "risk",
    )
    assert settings.sizing.kelly_fraction == D("0.5") and settings.sizing.min_trades == 10
    assert settings.stops.mode == "emulated"
    [fence] = settings.fences
    assert (fence.strategy, fence.collateral, fence.max_loss, fence.max_leverage) == (
        "a",
        D(100),
        D(10),
        None,
    )
    assert dict(settings.describe())["fence a"] == "collateral 100, max_loss 10"


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"liquidation_buffer": {"multiple": "0.5"}}, "risk.liquidation_buffer.multiple"),
        ({"liquidation_buffer": {"multiple": "2", "restore_to": "1"}}, "restore_to"),
        ({"stops": {"mode": "sometimes"}}, "risk.stops.mode"),
        ({"sizing": {"kelly_fraction": "2"}}, "risk.sizing.kelly_fraction"),
        ({"sizing": {"wild": 1}}, "risk.sizing"),
        ({"fences": [{"strategy": "a"}, {"strategy": "a"}]}, "risk.fences[1].strategy"),
        ({"fences": {"strategy": "a"}}, "risk.fences"),
    ],
)
def test_bad_values_name_the_field(raw, where):
    with pytest.raises(ConfigError, match=where.replace("[", r"\[").replace("]", r"\]")):
        parse_risk(raw, "risk")

"""The backtest table's one-line risk summary names denied commands only when there are some."""

from __future__ import annotations

from xmargin.app.cli_backtest import _risk_line


def risk(**overrides):
    summary = {
        "state": "halted",
        "breakers_tripped": [{"breaker": "daily_loss"}],
        "orders_denied": 2,
        "commands_denied": 0,
        "stops_triggered": 0,
        "strategies_fenced": [],
    }
    return {**summary, **overrides}


def test_the_risk_line_counts_denied_commands_after_denied_orders():
    assert _risk_line(risk(commands_denied=3)) == (
        "halted · daily_loss · 2 denied · 3 commands denied"
    )


def test_the_risk_line_leaves_out_commands_when_none_was_denied():
    assert _risk_line(risk()) == "halted · daily_loss · 2 denied"

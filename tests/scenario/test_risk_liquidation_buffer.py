"""The liquidation-buffer guard reduces first what frees the most margin per unit of cost.

5,000 USDT, no fees, long 1 BTC at 40,000 and 100 SOL at 200 (tier 1: MMR 0.004 and 0.005).
At BTC 38,000 and SOL 190 equity is 2,000 and maintenance 152 + 95 = 247: 8.0972 × it,
below a 10× buffer. Restoring 12× needs 12 × 247 − 2,000 = 964 more of "equity − 12 × MM".
"""

from __future__ import annotations

from decimal import Decimal

from tests.scenario.harness import BTC
from tests.scenario.test_risk_harness import Actor, RiskRun, buy, flat_bars, risk_config, risk_run

D = Decimal
SOL = "SOL/USDT:USDT"


def buffer_run(half_spread: dict[str, str], btc: list[float], sol: list[float]) -> RiskRun:
    risk = {
        "liquidation_buffer": {"multiple": "10", "restore_to": "12", "half_spread": half_spread},
        "margin_buffer": 0,
        "max_leverage": 0,
        "breakers": {"daily_loss": False, "max_drawdown": False},
    }
    document = risk_config(risk, taker="0", balances={"USDT": "5000"})
    actor = Actor("t", {0: [buy("1"), buy("100", SOL)]})
    return risk_run(document, [flat_bars(*btc), flat_bars(*sol, symbol=SOL)], actor)


def reductions(run: RiskRun) -> list[tuple[str, str, Decimal]]:
    return [
        (f["instrument"], f["side"], D(f["quantity"]))
        for f in run.of("OrderFilled")
        if f["strategy"] == "risk"
    ]


def test_the_cheapest_margin_is_freed_first_and_only_as_far_as_needed():
    # BTC frees 0.004 per unit of notional at a cost of 0.0001 (score 40), SOL 0.005 at
    # 0.002 (2.5): BTC first. Each BTC unit closed gains 12 × 0.004 − 0.0001 = 0.0479:
    # 964 / 0.0479 / 38,000 = 0.5296 → 0.530 (lots round up), enough on its own
    run = buffer_run({BTC: "0.0001", SOL: "0.002"}, [40000, 38000, 38000], [200, 190, 190])
    [trip] = run.of("BreakerTripped")
    assert (trip["breaker"], trip["action"], D(trip["value"]), D(trip["limit"])) == (
        "liquidation_buffer",
        "reduce",
        D("8.0972"),
        D(10),
    )
    assert "sell 0.530 BTC/USDT:USDT" in trip["detail"]
    assert reductions(run) == [(BTC, "sell", D("0.530"))]
    report = run.backtest.kernel.desk.margin_summary("binance.main")
    assert report.equity / report.maintenance_margin_required > 12


def test_a_cheaper_instrument_is_reduced_first_even_with_a_lower_margin_rate():
    # SOL now costs 0.0001 (score 50) and BTC 0.002 (2): SOL first, 964 / 0.0599 / 190
    # = 84.7 → 85
    run = buffer_run({BTC: "0.002", SOL: "0.0001"}, [40000, 38000, 38000], [200, 190, 190])
    assert reductions(run) == [(SOL, "sell", D(85))]


def test_no_reduction_above_the_buffer_and_no_exact_check_when_far_from_it():
    run = buffer_run({"*": "0.0005"}, [40000] * 20, [200] * 20)
    assert run.of("BreakerTripped") == []
    assert run.engine.buffer is not None
    # one exact report after the entry; the float estimate keeps it away afterwards
    assert run.engine.buffer.exact_checks == 1

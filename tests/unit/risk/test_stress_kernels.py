"""The vectorised kernels agree with the exact Decimal models; Monte Carlo statistics."""

from __future__ import annotations

import hashlib
import itertools
from decimal import Decimal

import numpy as np
import pytest

from xmargin.core.errors import ConfigError
from xmargin.margin.base import CrossMarginModel, MarginState
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.binance_usdm import BinanceUsdmCross, default_tiers
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.ftx import FtxCross
from xmargin.margin.hyperliquid import HyperliquidCross
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot, OrderSnapshot, PositionSnapshot
from xmargin.margin.tiers import TierTable
from xmargin.risk.stress import Scenario, move_prices, resolve_shocks
from xmargin.risk.stress_kernels import compile_kernel
from xmargin.risk.stress_monte_carlo import (
    correlated_multipliers,
    evaluate_draw,
    monte_carlo,
    numpy_rng,
    tail_risk,
)

D = Decimal
LIQUIDATED = {MarginState.LIQUIDATING, MarginState.AUTO_CLOSE, MarginState.BACKSTOP}


def usdm() -> tuple[CrossMarginModel, AccountSnapshot]:
    # 10 BTC at 50,000 is 500k (tier 2); × 1.7 crosses into tier 3 at 600k.
    return BinanceUsdmCross(), AccountSnapshot(
        {"USDT": D(60000)},
        (
            PositionSnapshot("BTC/USDT:USDT", D(10), D(48000), D(50000)),
            PositionSnapshot("ETH/USDT:USDT", D(-40), D(3100), D(3000)),
        ),
    )


def usdm_multi_assets() -> tuple[CrossMarginModel, AccountSnapshot]:
    tiers = dict(default_tiers())
    tiers["ETH/USDC:USDC"] = TierTable.from_brackets(
        "ETH/USDC:USDC",
        [(D(0), D(50000), D("0.005"), D(100)), (D(50000), D(10**9), D("0.01"), D(50))],
    )
    model = BinanceUsdmCross(
        tiers=tiers,
        multi_assets=True,
        collateral_ratios={"BTC": D("0.95"), "USDC": D("0.9999"), "FDUSD": D("0.989")},
    )
    return model, AccountSnapshot(
        {"USDT": D(-2000), "USDC": D(30000), "BTC": D("0.5"), "FDUSD": D(10000)},
        (
            PositionSnapshot("BTC/USDT:USDT", D(2), D(50000), D(52000)),
            PositionSnapshot("ETH/USDC:USDC", D(-20), D(3000), D(3050)),
        ),
        prices={"BTC": D(52000), "USDC": D("0.999"), "FDUSD": D(1)},
    )


def hyperliquid() -> tuple[CrossMarginModel, AccountSnapshot]:
    steps = [(D(0), D(40)), (D(10000), D(25)), (D(50000), D(10)), (D(100000), D(5))]
    tiers = dict(HyperliquidCross().tiers)
    tiers["BTC/USDC:USDC"] = TierTable.from_leverage_steps("BTC/USDC:USDC", steps)
    return HyperliquidCross(tiers=tiers), AccountSnapshot(
        {"USDC": D(20000)},
        (
            PositionSnapshot("BTC/USDC:USDC", D(1), D(100000), D(95000)),
            PositionSnapshot("ETH/USDC:USDC", D(-10), D(3000), D(3300)),
        ),
    )


def bybit() -> tuple[CrossMarginModel, AccountSnapshot]:
    return BybitUtaCross(), AccountSnapshot(
        {"USDT": D(5000), "USDC": D(3000), "BTC": D("0.5")},
        (
            PositionSnapshot("BTC/USDT:USDT", D(1), D(60000), D(58000), D(10)),
            PositionSnapshot("ETH/USDT:USDT", D(-5), D(3000), D(3100), D(10)),
        ),
        loans=(LoanSnapshot("ETH", D(2), D("0.01")),),
        prices={"BTC": D(58000), "ETH": D(3100), "USDC": D(1)},
        orders=(OrderSnapshot("BTC/USDT:USDT", D("0.5"), D(57000)),),
    )


def ftx() -> tuple[CrossMarginModel, AccountSnapshot]:
    return FtxCross(spot_margin_enabled=True), AccountSnapshot(
        {"USD": D(30000), "BTC": D("0.5"), "ETH": D(-20)},
        (
            PositionSnapshot("BTC/USD:USD", D(1), D(21000), D(20000)),
            PositionSnapshot("ETH/USD:USD", D(-10), D(1450), D(1500)),
        ),
        prices={"BTC": D(20000), "ETH": D(1500)},
    )


def binance_classic() -> tuple[CrossMarginModel, AccountSnapshot]:
    return BinanceCrossMargin(), AccountSnapshot(
        {"BTC": D(1), "ETH": D(5), "USDT": D(1000)},
        loans=(LoanSnapshot("USDT", D(30000), D(4)), LoanSnapshot("ETH", D(2))),
        prices={"BTC": D(30000), "ETH": D(2000)},
    )


def binance_pro() -> tuple[CrossMarginModel, AccountSnapshot]:
    return BinanceCrossMargin(mode="pro"), AccountSnapshot(
        {"USDT": D(250000), "ETH": D(1)},
        loans=(LoanSnapshot("BTC", D(5), D("0.001")), LoanSnapshot("ETH", D(20))),
        prices={"BTC": D(30000), "ETH": D(3000)},
        orders=(
            OrderSnapshot("BTC/USDT", D(1), D(31000)),
            OrderSnapshot("ETH/USDT", D(-2), D(2900)),
        ),
    )


ACCOUNTS = {
    "binance_usdm_cross": usdm,
    "binance_usdm_multi_assets": usdm_multi_assets,
    "hyperliquid_cross": hyperliquid,
    "bybit_uta_cross": bybit,
    "ftx_cross": ftx,
    "binance_cross_margin_classic": binance_classic,
    "binance_cross_margin_pro": binance_pro,
}
FACTORS = ("0.4", "0.8", "0.97", "1", "1.25", "1.7")


def grid(assets: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every combination for up to two assets; a fixed sample of 60 beyond."""
    combos = list(itertools.product(FACTORS, repeat=len(assets)))
    if len(combos) <= 60:
        return combos
    picks = np.random.default_rng(5).choice(len(combos), 60, replace=False)
    return [combos[i] for i in sorted(picks)]


@pytest.mark.parametrize("name", ACCOUNTS)
def test_the_kernel_agrees_with_the_exact_model_on_a_grid(name):
    model, account = ACCOUNTS[name]()
    kernel = compile_kernel(model, account)
    combos = grid(kernel.assets)
    result = kernel.evaluate(np.array([[float(f) for f in combo] for combo in combos]))
    verdicts = set()
    for i, combo in enumerate(combos):
        moves = {asset: D(f) for asset, f in zip(kernel.assets, combo, strict=True)}
        ratios, _ = resolve_shocks(model, account, Scenario.from_moves("g", moves).shocks)
        report = model.assess(move_prices(account, ratios))
        for got, want in (
            (result.equity[i], report.equity),
            (result.maintenance[i], report.maintenance_margin_required),
        ):
            assert got == pytest.approx(float(want), rel=1e-6, abs=1e-6), (combo, name)
        assert bool(result.liquidated[i]) == (report.state in LIQUIDATED), (combo, name)
        verdicts.add(bool(result.liquidated[i]))
    assert verdicts == {True, False}  # the grid crosses the liquidation boundary


def test_a_wrong_multiplier_matrix_is_refused():
    kernel = compile_kernel(*usdm())
    with pytest.raises(ConfigError, match=r"\(N, 2\) for BTC, ETH"):
        kernel.evaluate(np.ones((3, 3)))


def test_tail_risk_uses_the_k_largest_losses():
    losses = np.arange(1.0, 101.0)  # 1 … 100
    [at95, at99] = tail_risk(losses)
    assert (at95.tail_count, at95.value_at_risk, at95.expected_shortfall) == (5, 96.0, 98.0)
    assert (at99.tail_count, at99.value_at_risk, at99.expected_shortfall) == (1, 100.0, 100.0)


def test_seeded_var_and_es_match_a_direct_numpy_computation():
    # Long 1 BTC at 50,000 with 10,000 USDT; BTC daily volatility 4 %; 20,000 draws, seed 7.
    model = BinanceUsdmCross()
    account = AccountSnapshot(
        {"USDT": D(10000)}, (PositionSnapshot("BTC/USDT:USDT", D(1), D(50000), D(50000)),)
    )
    n, sigma, horizon = 20_000, 0.04, 2.0
    result = monte_carlo(
        compile_kernel(model, account), np.array([[sigma**2]]), n, horizon_days=horizon, seed=7
    )
    seed = int.from_bytes(hashlib.sha256(b"7:stress.monte_carlo").digest()[:8], "big")
    z = np.random.default_rng(seed).standard_normal((n, 1))[:, 0]
    factor = np.exp(sigma * np.sqrt(horizon) * z - 0.5 * sigma**2 * horizon)
    loss = 50000 * (1 - factor)
    ordered = np.sort(loss)[::-1]
    for tail, k in zip(result.tails, (1000, 200), strict=True):
        assert tail.tail_count == k
        assert tail.value_at_risk == pytest.approx(ordered[k - 1], rel=1e-9)
        assert tail.expected_shortfall == pytest.approx(ordered[:k].mean(), rel=1e-9)
    notional = 50000 * factor
    maintenance = np.where(notional < 50000, notional * 0.004, notional * 0.005 - 50)
    equity = 10000 + notional - 50000
    assert result.probability_of_liquidation == pytest.approx(np.mean(maintenance >= equity))
    assert 0 < result.probability_of_liquidation < 0.1
    assert result.worst[0] == int(np.argmax(loss))


def test_the_worst_draw_re_evaluated_exactly_matches_the_kernel():
    model, account = usdm()
    kernel = compile_kernel(model, account)
    cov = np.array([[0.0016, 0.0015], [0.0015, 0.0025]])
    result = monte_carlo(kernel, cov, 2000, seed=3, worst=2)
    exact = evaluate_draw(model, account, result, result.worst[0])
    assert float(exact.loss) == pytest.approx(result.losses[result.worst[0]], rel=1e-9)


def test_stablecoins_stay_put_unless_a_fixed_move_asks():
    model, account = usdm_multi_assets()
    kernel = compile_kernel(model, account)
    assert kernel.assets == ("BTC", "ETH", "FDUSD", "USDC")
    cov = np.diag([0.0016, 0.0025, 0.0, 0.0])
    plain = monte_carlo(kernel, cov, 500, seed=1)
    assert np.all(plain.multipliers[:, 2:] == 1.0)
    depeg = monte_carlo(kernel, cov, 500, seed=1, fixed_moves={"USDC": 0.87})
    assert np.all(depeg.multipliers[:, 3] == 0.87)
    assert np.all(depeg.losses > plain.losses)


def test_correlated_multipliers_have_mean_one_and_the_target_correlation():
    cov = np.array([[0.0016, 0.8 * 0.04 * 0.05, 0.0], [0.8 * 0.04 * 0.05, 0.0025, 0.0], [0, 0, 0]])
    draws = correlated_multipliers(cov, 200_000, 1.0, numpy_rng(11))
    logs = np.log(draws[:, :2])
    assert np.corrcoef(logs.T)[0, 1] == pytest.approx(0.8, abs=0.01)
    assert logs.std(axis=0) == pytest.approx([0.04, 0.05], rel=0.01)
    assert draws.mean(axis=0)[:2] == pytest.approx([1.0, 1.0], abs=0.001)
    assert np.all(draws[:, 2] == 1.0)
    again = correlated_multipliers(cov, 10, 1.0, numpy_rng(11))
    assert np.array_equal(again, draws[:10])


def test_a_singular_covariance_falls_back_to_its_square_root():
    cov = np.array([[0.0016, 0.0016], [0.0016, 0.0016]])  # a proxy: the same series twice
    draws = correlated_multipliers(cov, 1000, 1.0, numpy_rng(2))
    assert np.allclose(draws[:, 0], draws[:, 1])


def test_monte_carlo_needs_at_least_one_scenario():
    with pytest.raises(ConfigError, match="--monte-carlo"):
        monte_carlo(compile_kernel(*usdm()), np.eye(2) * 0.001, 0)

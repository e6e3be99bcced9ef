"""A corpus of malformed run configs, account files, scenario files and flags, through the CLI.

Each case is one bad input to ``xmargin backtest``, ``margin`` or ``stress``; each must end in
exit status 2 with exactly the one line written here (what, where, what was expected), no
traceback and nothing on stdout, and must leave an existing output file as it was. The
pathological numbers (``1e999999999``, thousands of digits) run in a subprocess with a timeout,
so a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from xmargin.app.cli import main
from xmargin.backtest.runner import build_strategies
from xmargin.engine.config import load_run_config

RUN = """seed = 7

[run]
end = "2026-02-19T17:00:00Z"

[[venues]]
id = "binance"
model = "binance_usdm_cross"
fees = { maker = "0.0002", taker = "0.0005" }
latency = { order_ms = 50, feed_ms = 0, jitter_ms = 0 }
funding = { interval_hours = 8 }
slippage = { kind = "fixed_bps", bps = 2 }

[[venues.accounts]]
id = "main"
balances = { USDT = "100000" }
leverage = { "BTC/USDT:USDT" = 10 }

[[data]]
venue = "binance"
symbol = "BTC/USDT:USDT"
kind = "ohlcv"
timeframe = "5m"
path = "btc_5m.csv"

[[strategies]]
id = "hodl"
strategy = "buy_and_hold"
account = "binance.main"
params = { instrument = "BTC/USDT:USDT", quantity = "1" }
"""

ACCOUNT = """venue = "binance_usdm_cross"

[balances]
USDT = "10000"

[[positions]]
instrument = "BTC/USDT:USDT"
size = "1"
entry_price = "50000"
mark_price = "50000"
"""

ACCOUNT_JSON = {
    "venue": "binance_usdm_cross",
    "balances": {"USDT": "10000"},
    "positions": [
        {
            "instrument": "BTC/USDT:USDT",
            "size": "1",
            "entry_price": "50000",
            "mark_price": "50000",
        }
    ],
}
SECOND_DATA = """
[[data]]
venue = "binance"
symbol = "BTC/USDT:USDT"
kind = "ohlcv"
timeframe = "5m"
path = "other.csv"
"""
SECOND_STRATEGY = """
[[strategies]]
id = "hodl"
strategy = "buy_and_hold"
params = { instrument = "BTC/USDT:USDT" }
"""
INSTRUMENT = """[[instruments]]
venue = "binance"
symbol = "BTC/USDT:USDT"

"""
SECOND_POSITION = """
[[positions]]
instrument = "BTC/USDT:USDT"
size = "{size}"
entry_price = "51000"
mark_price = "50000"
"""
ORDER = """
[[orders]]
instrument = "BTC/USDT:USDT"
side = "buy"
quantity = {quantity}
price = {price}
"""
LONG = "1" * 5000
PREVIOUS_OUTPUT = "the previous run's events\n"


@dataclass(frozen=True)
class Case:
    """One bad input: the command, the file's text, and the exact line expected on stderr."""

    id: str
    command: str
    text: str
    expected: str
    suffix: str = ".toml"
    flags: tuple[str, ...] = ()
    subprocess: bool = False


def config(old: str, new: str) -> str:
    assert old in RUN, old
    return RUN.replace(old, new, 1)


def account(old: str, new: str) -> str:
    assert old in ACCOUNT, old
    return ACCOUNT.replace(old, new, 1)


def account_json(text: str | None = None, **changes: object) -> str:
    return text if text is not None else json.dumps({**ACCOUNT_JSON, **changes})


def backtest(id: str, text: str, expected: str, *, slow: bool = False) -> Case:
    return Case(id, "backtest", text, expected, subprocess=slow)


def margin(
    id: str,
    text: str,
    expected: str,
    *,
    suffix: str = ".toml",
    slow: bool = False,
    flags: tuple[str, ...] = (),
) -> Case:
    return Case(id, "margin", text, expected, suffix, flags, slow)


def stress(
    id: str, text: str, expected: str, *, flags: tuple[str, ...] = (), slow: bool = False
) -> Case:
    return Case(id, "stress", text, expected, ".toml", flags, slow)


V = "{file}: venues[0]"
A = "{file}: venues[0].accounts[0]"
S = "{file}: strategies[0]"

NUMBER_CASES = [
    backtest(
        "seed-fraction",
        config("seed = 7", "seed = 1.5"),
        "{file}: seed: 1.5 — expected a whole number",
    ),
    backtest(
        "seed-negative", config("seed = 7", "seed = -1"), "{file}: seed: -1 — expected a number ≥ 0"
    ),
    backtest(
        "seed-too-big",
        config("seed = 7", "seed = 4294967296"),
        "{file}: seed: 4294967296 — expected a number ≤ 4294967295",
    ),
    backtest(
        "seed-bool", config("seed = 7", "seed = true"), "{file}: seed: true — expected a number"
    ),
    backtest(
        "seed-text",
        config("seed = 7", 'seed = "lucky"'),
        "{file}: seed: 'lucky' — expected a number such as \"12.5\"",
    ),
    backtest(
        "seed-huge-exponent",
        config("seed = 7", "seed = 1e999999999"),
        "{file}: seed: 1E+999999999 — expected a magnitude below 1e20",
        slow=True,
    ),
    backtest(
        "seed-huge-int",
        config("seed = 7", "seed = 123456789012345678901234567890"),
        "{file}: seed: 123456789012345678901234567890 — expected a magnitude below 1e20",
    ),
    backtest(
        "funding-zero",
        config("interval_hours = 8", "interval_hours = 0"),
        f"{V}.funding.interval_hours: 0 — expected a number ≥ 1",
    ),
    backtest(
        "funding-fraction",
        config("interval_hours = 8", "interval_hours = 0.5"),
        f"{V}.funding.interval_hours: 0.5 — expected a whole number",
    ),
    backtest(
        "funding-too-long",
        config("interval_hours = 8", "interval_hours = 25"),
        f"{V}.funding.interval_hours: 25 — expected a number ≤ 24",
    ),
    backtest(
        "funding-constant-nan",
        config("interval_hours = 8", 'interval_hours = 8, constant_rate = "nan"'),
        f"{V}.funding.constant_rate: 'nan' — expected a finite number",
    ),
    backtest(
        "latency-1e400",
        config("order_ms = 50", "order_ms = 1e400"),
        f"{V}.latency.order_ms: 1E+400 — expected a magnitude below 1e20",
    ),
    backtest(
        "latency-over-a-day",
        config("order_ms = 50", "order_ms = 86400001"),
        f"{V}.latency.order_ms: 86400001 — expected a number ≤ 86400000",
    ),
    backtest(
        "latency-negative",
        config("jitter_ms = 0", "jitter_ms = -1"),
        f"{V}.latency.jitter_ms: -1 — expected a number ≥ 0",
    ),
    backtest(
        "latency-inf",
        config("feed_ms = 0", "feed_ms = inf"),
        f"{V}.latency.feed_ms: Infinity — expected a finite number",
    ),
    backtest(
        "latency-huge-exponent",
        config("order_ms = 50", 'order_ms = "1e999999999"'),
        f"{V}.latency.order_ms: '1e999999999' — expected a magnitude below 1e20",
        slow=True,
    ),
    backtest(
        "fee-above-ten-percent",
        config('taker = "0.0005"', 'taker = "0.5"'),
        f"{V}.fees.taker: '0.5' — expected a number ≤ 0.1",
    ),
    backtest(
        "fee-rebate-too-large",
        config('maker = "0.0002"', 'maker = "-0.02"'),
        f"{V}.fees.maker: '-0.02' — expected a number ≥ -0.01",
    ),
    backtest(
        "slippage-bps",
        config("bps = 2", "bps = 20000"),
        f"{V}.slippage.bps: 20000 — expected a number ≤ 10000",
    ),
    backtest(
        "interest-minute-fraction",
        config("[[venues.accounts]]", "interest_minute = 1.5\n\n[[venues.accounts]]"),
        f"{V}.interest_minute: 1.5 — expected a whole number",
    ),
    backtest(
        "interest-minute-60",
        config("[[venues.accounts]]", "interest_minute = 60\n\n[[venues.accounts]]"),
        f"{V}.interest_minute: 60 — expected a number ≤ 59",
    ),
    backtest(
        "interest-rate-negative",
        config(
            "[[venues.accounts]]", 'interest_rates = { USDT = "-0.0001" }\n\n[[venues.accounts]]'
        ),
        f"{V}.interest_rates.USDT: '-0.0001' — expected a number ≥ 0",
    ),
    backtest(
        "balance-tiny",
        config('USDT = "100000"', 'USDT = "1e-30"'),
        f"{A}.balances.USDT: '1e-30' — expected zero or a magnitude of at least 1e-18",
    ),
    backtest(
        "balance-long-text",
        config('USDT = "100000"', f'USDT = "{LONG}"'),
        (
            f"{A}.balances.USDT: '111111111111111111111111'… (5000 "
            f"characters) — expected a number of at most 64 characters"
        ),
    ),
    backtest(
        "balance-long-integer",
        config('USDT = "100000"', f"USDT = {LONG}"),
        "{file}: line 16: a number of 5000 digits — expected at most 34 significant digits",
        slow=True,
    ),
    backtest(
        "balance-many-digits",
        config('USDT = "100000"', "USDT = 1.0000000000000000000000000000000000000001"),
        (
            f"{A}.balances.USDT: 1.0000000000000000000000… (42 characters) "
            f"— expected at most 34 significant digits"
        ),
    ),
    backtest(
        "balance-above-a-quadrillion",
        config('USDT = "100000"', 'USDT = "1e16"'),
        f"{A}.balances.USDT: '1e16' — expected a number ≤ 1000000000000000",
    ),
    backtest(
        "leverage-zero",
        config('"BTC/USDT:USDT" = 10', '"BTC/USDT:USDT" = 0'),
        f"{A}.leverage.BTC/USDT:USDT: 0 — expected a positive number",
    ),
    backtest(
        "instrument-increment-zero",
        config(
            "[[data]]",
            (
                '[[instruments]]\nvenue = "binance"\nsymbol = "BTC/USDT:USDT"\nprice_increment '
                '= "0"\n\n[[data]]'
            ),
        ),
        "{file}: instruments[0].price_increment: '0' — expected a positive number",
    ),
    backtest(
        "instrument-min-notional-negative",
        config(
            "[[data]]",
            (
                '[[instruments]]\nvenue = "binance"\nsymbol = "BTC/USDT:USDT"\nmin_notional '
                '= "-1"\n\n[[data]]'
            ),
        ),
        "{file}: instruments[0].min_notional: '-1' — expected a number ≥ 0",
    ),
    backtest(
        "strategy-quantity-huge",
        config('quantity = "1"', 'quantity = "1e999999999"'),
        f"{S}.params.quantity: '1e999999999' — expected a magnitude below 1e20",
        slow=True,
    ),
    backtest(
        "strategy-int-fraction",
        config('strategy = "buy_and_hold"', 'strategy = "sma_cross"').replace(
            'quantity = "1" }', "fast = 2.5 }"
        ),
        f"{S}.params.fast: 2.5 — expected a whole number",
    ),
    backtest(
        "strategy-int-huge",
        config('strategy = "buy_and_hold"', 'strategy = "sma_cross"').replace(
            'quantity = "1" }', "slow = 1e999999999 }"
        ),
        f"{S}.params.slow: 1E+999999999 — expected a magnitude below 1e20",
        slow=True,
    ),
    backtest(
        "margin-curve-huge",
        config(
            'end = "2026-02-19T17:00:00Z"',
            'end = "2026-02-19T17:00:00Z"\nmargin_curve = "99999999999999999999d"',
        ),
        (
            "{file}: run.margin_curve: '99999999999999999999d' — "
            "expected a duration from 1m to 1w such as 5m, 1h or 1d"
        ),
    ),
    backtest(
        "data-timeframe-zero",
        config('timeframe = "5m"', 'timeframe = "0m"'),
        "{file}: data[0].timeframe: '0m' — expected a duration from 1m to 1w such as 5m, 1h or 1d",
    ),
    backtest(
        "risk-window-fraction",
        config(
            "[[venues]]",
            '[risk]\nbreakers = { daily_loss = { limit = "0.05", window = 2.5 } }\n\n[[venues]]',
        ),
        "{file}: risk.breakers.daily_loss.window: 2.5 — expected a whole number",
    ),
    backtest(
        "breaker-loss-fraction",
        config(
            "[[venues]]",
            "[risk]\nbreakers = { consecutive_losses = { limit = 2.5 } }\n\n[[venues]]",
        ),
        "{file}: risk.breakers.consecutive_losses.limit: 2.5 — expected a whole number",
    ),
    backtest(
        "breaker-drawdown-above-one",
        config(
            "[[venues]]", '[risk]\nbreakers = { max_drawdown = { limit = "1.5" } }\n\n[[venues]]'
        ),
        "{file}: risk.breakers.max_drawdown.limit: '1.5' — expected a number ≤ 1",
    ),
]

DUPLICATE_CASES = [
    backtest(
        "toml-duplicate-key",
        config("seed = 7", "seed = 7\nseed = 8"),
        (
            "{file}: malformed TOML: Cannot overwrite a value (at "
            "line 2, column 9); a key or table is given twice: keep one"
        ),
    ),
    backtest(
        "toml-duplicate-table",
        config("[run]", "[run]\n[run]"),
        (
            "{file}: malformed TOML: Cannot declare ('run',) twice "
            "(at line 4, column 5); a key or table is given twice: keep one"
        ),
    ),
    backtest(
        "toml-duplicate-inline-key",
        config('maker = "0.0002"', 'maker = "0.0002", maker = "0.0003"'),
        (
            "{file}: malformed TOML: Duplicate inline table key "
            "'maker' (at line 9, column 44); a key or table is given twice: keep one"
        ),
    ),
    backtest(
        "duplicate-data",
        RUN + SECOND_DATA,
        "{file}: data[1]: repeats data[0] (same venue, symbol, kind and timeframe): keep one",
    ),
    backtest(
        "duplicate-instrument",
        config(
            "[[data]]",
            INSTRUMENT + INSTRUMENT + "[[data]]",
        ),
        (
            "{file}: instruments[1].symbol: 'BTC/USDT:USDT' on 'binance' "
            "is also instruments[0]: keep one"
        ),
    ),
    backtest(
        "duplicate-account",
        config(
            'balances = { USDT = "100000" }',
            'balances = { USDT = "100000" }\n\n[[venues.accounts]]\nid = "main"',
        ),
        f"{V}.accounts: duplicate account id 'binance.main'",
    ),
    backtest(
        "duplicate-strategy",
        RUN + SECOND_STRATEGY,
        "{file}: strategies: duplicate strategy id 'hodl'",
    ),
    backtest(
        "leverage-above-every-tier",
        config('"BTC/USDT:USDT" = 10', '"BTC/USDT:USDT" = 200'),
        (
            f"{A}.leverage.BTC/USDT:USDT: 200 — expected at most "
            f"125, the most any BTC/USDT:USDT position may use (tier 1, notional 0 to 50000 USDT)"
        ),
    ),
    backtest(
        "strategy-without-data",
        config(
            'params = { instrument = "BTC/USDT:USDT"', 'params = { instrument = "ETH/USDT:USDT"'
        ),
        (
            f"{S}: strategy 'hodl' wants bars of ETH/USDT:USDT, which "
            f'no [[data]] table gives: add one with symbol = "ETH/USDT:USDT" '
            f"(or trade an instrument that has data)"
        ),
    ),
]

STRATEGY_CASES = [
    backtest(
        "strategy-enter-at-not-a-time",
        config('quantity = "1" }', 'quantity = "1", enter_at = "soon" }'),
        f"{S}: params.enter_at: 'soon' — expected an ISO date or time such as "
        '"2025-03-05T12:00:00Z"',
    ),
    backtest(
        "start-huge-number",
        config('end = "2026-02-19T17:00:00Z"', "start = 1e999999999"),
        "{file}: run.start: 1E+999999999 — expected an ISO date or time (UTC) such as "
        '"2025-01-01" or "2025-01-01T08:00:00Z"',
    ),
    backtest(
        "strategy-seed-negative",
        config('strategy = "buy_and_hold"', 'strategy = "ml_forest"').replace(
            'params = { instrument = "BTC/USDT:USDT", quantity = "1" }', "params = { seed = -1 }"
        ),
        f"{S}: params.seed: -1 — expected a whole number from 0 to 4294967295",
    ),
    backtest(
        "strategy-seed-fraction",
        config('strategy = "buy_and_hold"', 'strategy = "ml_forest"').replace(
            'params = { instrument = "BTC/USDT:USDT", quantity = "1" }', "params = { seed = 0.5 }"
        ),
        f"{S}.params.seed: 0.5 — expected a whole number",
    ),
    backtest(
        "strategy-param-instrument-without-data",
        config('strategy = "buy_and_hold"', 'strategy = "funding_carry"').replace(
            'params = { instrument = "BTC/USDT:USDT", quantity = "1" }',
            'params = { spot_account = "binance.main", spot = "BTC/USDT", '
            'perp = "BTC/USDT:USDT", notional = "1000" }',
        ),
        f"{S}: strategy 'hodl' trades (params.spot) BTC/USDT, which no [[data]] table gives: "
        'add one with symbol = "BTC/USDT" (or trade an instrument that has data)',
    ),
    backtest(
        "strategy-module-import",
        config('strategy = "buy_and_hold"', 'strategy = "os:system"'),
        (
            f"{S}.strategy: 'os:system' is not imported by module "
            f'name; name its file (strategy = "file:PATH:Class") '
            f"or install it as an entry point in the group 'xmargin.strategies' "
            f"(built in: buy_and_hold, funding_carry, funding_perp_perp, "
            f"ml_forest, multi_timeframe, peg_reversion, qqe, sma_cross, sma_momentum, spread_arb)"
        ),
    ),
    backtest(
        "strategy-missing-file",
        config('strategy = "buy_and_hold"', 'strategy = "file:mine.py:Mine"'),
        f"{S}.strategy: no Python file {{dir}}/mine.py (from 'file:mine.py:Mine')",
    ),
    backtest(
        "strategy-bad-file-form",
        config('strategy = "buy_and_hold"', 'strategy = "file:mine.py"'),
        (
            f"{S}.strategy: 'file:mine.py' must read \"file:PATH:Class\", "
            f'e.g. "file:strategies/mine.py:MyStrategy"'
        ),
    ),
    backtest(
        "strategy-unknown-param",
        config('quantity = "1"', 'quantity = "1", size = "2"'),
        (
            f"{S}.params: unknown parameter(s) size (allowed: instrument, "
            f"quantity, leverage, side, enter_at, flatten_on_stop)"
        ),
    ),
]

ACCOUNT_CASES = [
    margin(
        "balance-1e400",
        account('USDT = "10000"', "USDT = 1e400"),
        "{file}: balances.USDT: 1E+400 — expected a magnitude below 1e20",
    ),
    margin(
        "balance-huge-exponent",
        account('USDT = "10000"', "USDT = 1e999999999"),
        "{file}: balances.USDT: 1E+999999999 — expected a magnitude below 1e20",
        slow=True,
    ),
    margin(
        "balance-huge-exponent-text",
        account('USDT = "10000"', 'USDT = "-1e999999999"'),
        "{file}: balances.USDT: '-1e999999999' — expected a magnitude below 1e20",
        slow=True,
    ),
    margin(
        "account-long-integer",
        account('USDT = "10000"', f"USDT = {LONG}"),
        "{file}: line 4: a number of 5000 digits — expected at most 34 significant digits",
        slow=True,
    ),
    margin(
        "balance-bool",
        account('USDT = "10000"', "USDT = true"),
        "{file}: balances.USDT: true — expected a number",
    ),
    margin(
        "size-1e-30",
        account('size = "1"', 'size = "1e-30"'),
        "{file}: positions[0].size: '1e-30' — expected zero or a magnitude of at least 1e-18",
    ),
    margin(
        "size-zero-huge-exponent",
        account('size = "1"', 'size = "0e-999999999"'),
        "{file}: positions[0].size: '0e-999999999' — expected a number such as \"0\"",
        slow=True,
    ),
    margin(
        "entry-price-long",
        account('entry_price = "50000"', f'entry_price = "{LONG}"'),
        (
            "{file}: positions[0].entry_price: '111111111111111111111111'… "
            "(5000 characters) — expected a number of at most 64 characters"
        ),
    ),
    margin(
        "mark-price-inf",
        account('mark_price = "50000"', "mark_price = -inf"),
        "{file}: positions[0].mark_price: -Infinity — expected a finite number",
    ),
    margin(
        "position-leverage-zero",
        account('mark_price = "50000"', 'mark_price = "50000"\nleverage = 0'),
        "{file}: positions[0].leverage: 0 — expected a positive number",
    ),
    margin(
        "leverage-above-tier",
        account('mark_price = "50000"', 'mark_price = "50000"\nleverage = 110'),
        (
            "{file}: positions[0].leverage: 110 — expected at most "
            "100, the maximum of BTC/USDT:USDT tier 2 (notional "
            "50000 to 600000 USDT) for this position's notional 50000 USDT"
        ),
    ),
    margin(
        "params-leverage-above-tier",
        ACCOUNT + '\n[params]\nleverage = { "BTC/USDT:USDT" = 125 }\n',
        (
            "{file}: params.leverage.BTC/USDT:USDT: 125 — expected "
            "at most 100, the maximum of BTC/USDT:USDT tier 2 (notional "
            "50000 to 600000 USDT) for this position's notional 50000 USDT"
        ),
    ),
    margin(
        "duplicate-position",
        ACCOUNT + SECOND_POSITION.format(size="-1"),
        (
            "{file}: positions[1].instrument: 'BTC/USDT:USDT' is "
            "also positions[0]: give one net position per instrument"
        ),
    ),
    margin(
        "toml-duplicate-balance",
        account('USDT = "10000"', 'USDT = "10000"\nUSDT = "20000"'),
        (
            "{file}: malformed TOML: Cannot overwrite a value (at "
            "line 5, column 15); a key or table is given twice: keep one"
        ),
    ),
    margin(
        "order-quantity-negative",
        ACCOUNT + ORDER.format(quantity='"-1"', price='"49000"'),
        "{file}: orders[0].quantity: '-1' — expected a positive number",
    ),
    margin(
        "order-price-zero",
        ACCOUNT + ORDER.format(quantity='"1"', price="0"),
        "{file}: orders[0].price: 0 — expected a positive number",
    ),
    margin(
        "price-nan",
        ACCOUNT + '\n[prices]\nBTC = "NaN"\n',
        "{file}: prices.BTC: 'NaN' — expected a finite number",
    ),
    margin(
        "json-duplicate-key",
        '{"venue": "binance_usdm_cross", "balances": {"USDT": "1", "USDT": "2"}}',
        "{file}: key 'USDT' is given twice in one JSON object: keep one",
        suffix=".json",
    ),
    margin(
        "json-duplicate-top-key",
        '{"venue": "binance_usdm_cross", "venue": "ftx_cross"}',
        "{file}: key 'venue' is given twice in one JSON object: keep one",
        suffix=".json",
    ),
    margin(
        "json-infinity",
        '{"venue": "binance_usdm_cross", "balances": {"USDT": -Infinity}}',
        "{file}: -Infinity — expected a finite number (NaN and Infinity are not amounts)",
        suffix=".json",
    ),
    margin(
        "json-1e400",
        '{"venue": "binance_usdm_cross", "balances": {"USDT": 1e400}}',
        "{file}: balances.USDT: 1E+400 — expected a magnitude below 1e20",
        suffix=".json",
    ),
    margin(
        "json-huge-exponent",
        '{"venue": "binance_usdm_cross", "balances": {"USDT": 1e999999999}}',
        "{file}: balances.USDT: 1E+999999999 — expected a magnitude below 1e20",
        suffix=".json",
        slow=True,
    ),
    margin(
        "json-long-integer",
        '{"venue": "binance_usdm_cross", "balances": {"USDT": ' + LONG + "}}",
        (
            "{file}: balances.USDT: 111111111111111111111111… (5000 "
            "characters) — expected at most 34 significant digits"
        ),
        suffix=".json",
        slow=True,
    ),
    margin(
        "json-float-size",
        account_json(positions=[{**ACCOUNT_JSON["positions"][0], "size": 1e-30}]),
        "{file}: positions[0].size: 1E-30 — expected zero or a magnitude of at least 1e-18",
        suffix=".json",
    ),
    margin(
        "json-duplicate-position",
        account_json(positions=ACCOUNT_JSON["positions"] * 2),
        (
            "{file}: positions[1].instrument: 'BTC/USDT:USDT' is "
            "also positions[0]: give one net position per instrument"
        ),
        suffix=".json",
    ),
    margin(
        "json-leverage-above-tier",
        account_json(positions=[{**ACCOUNT_JSON["positions"][0], "size": "80", "leverage": 60}]),
        (
            "{file}: positions[0].leverage: 60 — expected at most "
            "50, the maximum of BTC/USDT:USDT tier 4 (notional 3000000 "
            "to 12000000 USDT) for this position's notional 4000000 USDT"
        ),
        suffix=".json",
    ),
    margin(
        "json-top-level-list",
        "[1, 2]",
        "{file}: must hold a table/object at the top level",
        suffix=".json",
    ),
    margin(
        "json-bool-price",
        account_json(positions=[{**ACCOUNT_JSON["positions"][0], "mark_price": False}]),
        "{file}: positions[0].mark_price: false — expected a number",
        suffix=".json",
    ),
    margin(
        "position-notional-too-large",
        account('size = "1"', 'size = "1e19"'),
        "{file}: positions[0].size: a notional of 5.000E+23 USDT (1E+19 at 50000) — expected "
        "at most 1,000,000,000,000,000 USDT",
    ),
    margin(
        "order-notional-too-large",
        ACCOUNT + ORDER.format(quantity='"99999999999"', price='"99999999999"'),
        "{file}: orders[0].quantity: a notional of 1.000E+22 USDT (99999999999 at 99999999999) "
        "— expected at most 1,000,000,000,000,000 USDT",
    ),
]

WHAT_IF_CASES = [
    margin(
        "what-if-notional-too-large",
        ACCOUNT,
        "--what-if 'buy 1e19 BTC/USDT:USDT': a notional of 5.000E+23 USDT (1E+19 at 50000) — "
        "expected at most 1,000,000,000,000,000 USDT",
        flags=("--what-if", "buy 1e19 BTC/USDT:USDT"),
    ),
    margin(
        "what-if-unknown-instrument",
        ACCOUNT,
        "--what-if 'sell 1 DOGE/USDT:USDT @ 1': binance_usdm_cross has no parameters for "
        "DOGE/USDT:USDT",
        flags=("--what-if", "buy 1 BTC/USDT:USDT", "--what-if", "sell 1 DOGE/USDT:USDT @ 1"),
    ),
    margin(
        "what-if-huge-quantity",
        ACCOUNT,
        (
            "--what-if 'buy 1e999999999 BTC/USDT:USDT': quantity: "
            "'1e999999999' — expected a magnitude below 1e20"
        ),
        flags=("--what-if", "buy 1e999999999 BTC/USDT:USDT"),
        slow=True,
    ),
    margin(
        "what-if-tiny-quantity",
        ACCOUNT,
        (
            "--what-if 'buy 1e-30 BTC/USDT:USDT': quantity: '1e-30' "
            "— expected zero or a magnitude of at least 1e-18"
        ),
        flags=("--what-if", "buy 1e-30 BTC/USDT:USDT"),
    ),
    margin(
        "what-if-nan-quantity",
        ACCOUNT,
        "--what-if 'sell nan BTC/USDT:USDT': quantity: 'nan' — expected a finite number",
        flags=("--what-if", "sell nan BTC/USDT:USDT"),
    ),
    margin(
        "what-if-infinite-price",
        ACCOUNT,
        "--what-if 'sell 1 BTC/USDT:USDT @ inf': price: 'inf' — expected a finite number",
        flags=("--what-if", "sell 1 BTC/USDT:USDT @ inf"),
    ),
    margin(
        "what-if-long-price",
        ACCOUNT,
        (
            f"--what-if 'buy 1 BTC/USDT:USDT @ {'9' * 100}': price: "
            f"'999999999999999999999999'… (100 characters) — expected "
            f"a number of at most 64 characters"
        ),
        flags=("--what-if", f"buy 1 BTC/USDT:USDT @ {'9' * 100}"),
    ),
    margin(
        "what-if-zero-price",
        ACCOUNT,
        "--what-if 'buy 1 BTC/USDT:USDT @ 0': price: '0' — expected a positive number",
        flags=("--what-if", "buy 1 BTC/USDT:USDT @ 0"),
    ),
    margin(
        "what-if-no-side",
        ACCOUNT,
        "--what-if 'lend 1 BTC/USDT:USDT': expected 'buy|sell QTY SYMBOL [@ PRICE]'",
        flags=("--what-if", "lend 1 BTC/USDT:USDT"),
    ),
]

STRESS_ACCOUNT = ACCOUNT
STRESS_CASES = [
    stress(
        "stress-balance-huge",
        account('USDT = "10000"', "USDT = 1e999999999"),
        "{file}: balances.USDT: 1E+999999999 — expected a magnitude below 1e20",
        flags=("--shock", "BTC=-20%"),
        slow=True,
    ),
    stress(
        "stress-duplicate-position",
        ACCOUNT + SECOND_POSITION.format(size="2"),
        (
            "{file}: positions[1].instrument: 'BTC/USDT:USDT' is "
            "also positions[0]: give one net position per instrument"
        ),
        flags=("--shock", "BTC=-20%"),
    ),
    stress(
        "stress-shock-huge-price",
        ACCOUNT,
        "--shock BTC=1e999999999: price: '1e999999999' — expected a magnitude below 1e20",
        flags=("--shock", "BTC=1e999999999"),
        slow=True,
    ),
    stress(
        "stress-shock-huge-change",
        ACCOUNT,
        "--shock BTC=-1e999999999%: percentage: '-1e999999999' — expected a magnitude below 1e20",
        flags=("--shock", "BTC=-1e999999999%"),
        slow=True,
    ),
    stress(
        "stress-shock-tiny-price",
        ACCOUNT,
        "--shock BTC=1e-30: price: '1e-30' — expected zero or a magnitude of at least 1e-18",
        flags=("--shock", "BTC=1e-30"),
    ),
    stress(
        "stress-closing-cost-huge",
        ACCOUNT,
        "--closing-cost-bps 1e999999999: '1e999999999' — expected a magnitude below 1e20",
        flags=("--scenario", "liquidity_haircut", "--closing-cost-bps", "1e999999999"),
        slow=True,
    ),
    stress(
        "stress-horizon-huge",
        ACCOUNT,
        (
            "--horizon 99999999999999999999d: '99999999999999999999d' "
            "— expected a horizon of at most 366d"
        ),
        flags=("--monte-carlo", "10", "--horizon", "99999999999999999999d"),
    ),
]


def scenario_case(id: str, scenario: str, expected: str, *, slow: bool = False) -> Case:
    """A bad scenario file: written beside the account as ``scenario.toml``."""
    return Case(id, "stress", ACCOUNT, expected, ".toml", ("--scenario", f"@{scenario}"), slow)


SCENARIO_CASES = [
    scenario_case(
        "scenario-duplicate-shock",
        '[shocks]\nBTC = "-20%"\nBTC = "-30%"\n',
        (
            "{scenario}: malformed TOML: Cannot overwrite a value "
            "(at line 3, column 13); a key or table is given twice: keep one"
        ),
    ),
    scenario_case(
        "scenario-huge-shock",
        "[shocks]\nBTC = 1e999999999\n",
        "{scenario}: shocks.BTC: price: 1E+999999999 — expected a magnitude below 1e20",
        slow=True,
    ),
    scenario_case(
        "scenario-periods-huge",
        "[funding]\nperiods = 100000000000000\n",
        "{scenario}: funding.periods: 100000000000000 — expected a whole number from 1 to 10000",
    ),
    scenario_case(
        "scenario-rounds-fraction",
        "[cascade]\nmax_rounds = 2.5\n",
        "{scenario}: cascade.max_rounds: 2.5 — expected a whole number from 1 to 10000",
    ),
    scenario_case(
        "scenario-long-integer",
        f"[shocks]\nBTC = {LONG}\n",
        "{scenario}: line 2: a number of 5000 digits — expected at most 34 significant digits",
        slow=True,
    ),
]

ALL_CASES = (
    NUMBER_CASES
    + DUPLICATE_CASES
    + STRATEGY_CASES
    + ACCOUNT_CASES
    + WHAT_IF_CASES
    + STRESS_CASES
    + SCENARIO_CASES
)


def materialise(case: Case, folder: Path) -> tuple[list[str], dict[str, str]]:
    """Write the case's files; return the CLI arguments and the names its message uses."""
    path = folder / f"input{case.suffix}"
    path.write_text(case.text)
    names = {"file": str(path), "dir": str(folder)}
    flags = list(case.flags)
    if flags[:1] == ["--scenario"] and flags[1].startswith("@"):
        scenario = folder / "scenario.toml"
        scenario.write_text(flags[1][1:])
        flags[1] = names["scenario"] = str(scenario)
    argv = [case.command, str(path), *flags]
    if case.command == "backtest":
        argv += ["--no-db", "--events-out", str(folder / "events.jsonl")]
    return argv, names


def run_in_process(capsys, argv: list[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


DRIVER = """
import contextlib, io, json, sys, traceback
from xmargin.app.cli import main
results = []
for argv in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = -1
    results.append([code, out.getvalue(), err.getvalue()])
json.dump(results, sys.stdout)
"""


def run_in_subprocess(argvs: list[list[str]]) -> list[tuple[int, str, str]]:
    """Run each argument list through ``main`` in one child process, under one timeout."""
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        timeout=300,  # a hang or a runaway allocation fails here instead of stalling the suite
        check=True,
    )
    return [(code, out, err) for code, out, err in json.loads(done.stdout)]


@pytest.fixture(scope="module")
def pathological_runs(tmp_path_factory) -> dict[str, tuple[tuple[int, str, str], dict[str, str]]]:
    """The subprocess cases, each in its own folder, run once for the module."""
    prepared = []
    for case in ALL_CASES:
        if case.subprocess:
            folder = tmp_path_factory.mktemp(case.id)
            argv, names = materialise(case, folder)
            (folder / "events.jsonl").write_text(PREVIOUS_OUTPUT)
            prepared.append((case.id, argv, names))
    results = run_in_subprocess([argv for _, argv, _ in prepared])
    return {
        case_id: (result, names)
        for (case_id, _, names), result in zip(prepared, results, strict=True)
    }


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_each_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, request, case):
    if case.subprocess:
        (code, out, err), names = request.getfixturevalue("pathological_runs")[case.id]
        folder = Path(names["dir"])
    else:
        argv, names = materialise(case, tmp_path)
        folder = tmp_path
        (folder / "events.jsonl").write_text(PREVIOUS_OUTPUT)
        code, out, err = run_in_process(capsys, argv)
    assert "Traceback" not in err
    assert (code, out) == (2, "")
    assert err == f"xmargin: error: {case.expected.format(**names)}\n"
    assert (folder / "events.jsonl").read_text() == PREVIOUS_OUTPUT
    written = {Path(names["file"]).name, "events.jsonl"} | (
        {"scenario.toml"} if "scenario" in names else set()
    )
    assert {p.name for p in folder.iterdir()} == written


def test_the_corpus_is_large_and_its_bases_are_valid(tmp_path, capsys):
    assert len(ALL_CASES) >= 80
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES)
    path = tmp_path / "run.toml"
    path.write_text(RUN)
    config = load_run_config(path)
    [(strategy, account_id)] = build_strategies(config)
    assert (strategy.id, account_id, config.seed) == ("hodl", "binance.main", 7)
    account_path = tmp_path / "account.toml"
    account_path.write_text(ACCOUNT)
    code, out, _ = run_in_process(capsys, ["margin", str(account_path), "--json"])
    assert code == 0 and json.loads(out)["equity"] == "10000"
    json_path = tmp_path / "account.json"
    json_path.write_text(account_json())
    code, out, _ = run_in_process(capsys, ["margin", str(json_path), "--json"])
    assert code == 0 and json.loads(out)["maintenance_margin_required"] == "200"

"""Properties of the simulated exchange over random bar paths and random order scripts.

Each example runs a short backtest (Binance USDⓈ-M, BTC/USDT:USDT, tick 0.1, lot 0.001)
with a scripted strategy sending random orders, cancels and modifications, then checks the
event log and the ledger: value is conserved, fills respect quantities, limits, reduce-only
and the bar's range, statuses follow the order state machine, and runs are deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import event as note
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.property.order_lifecycle import ALLOWED

from xmargin.backtest.feed import FeedSource
from xmargin.model.orders import OrderStatus, OrderType, TimeInForce, TriggerSource
from xmargin.portfolio.ledger import PostingKind
from xmargin.testing.scenario import ScenarioRun, run_scenario
from xmargin.testing.scripted import Borrow, Cancel, Modify, Repay, Submit
from xmargin.testing.series import funding, marks, ohlcv

T0 = 1_704_067_200_000
HOUR = 3_600_000
BTC = "BTC/USDT:USDT"
ACCOUNT = "binance.main"
ZERO = Decimal(0)

ORDER_KINDS = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop_market": OrderType.STOP_MARKET,
    "stop_limit": OrderType.STOP_LIMIT,
    "tp_market": OrderType.TAKE_PROFIT_MARKET,
    "tp_limit": OrderType.TAKE_PROFIT_LIMIT,
}


def _price(ticks: int) -> str:
    return f"{max(ticks, 1) / 10:.1f}"


@st.composite
def bar_paths(draw: st.DrawFn) -> list[tuple[float, float, float, float, float]]:
    """Hourly bars in 0.1 ticks around 100, with gaps, and volumes that sometimes cap fills."""
    rows = []
    close = 1000
    drift = draw(st.sampled_from([0, 0, -25, 25]))  # trending paths reach liquidations
    for _ in range(draw(st.integers(3, 9))):
        open_ = max(close + draw(st.integers(-40, 40)), 200)
        close = max(open_ + drift + draw(st.integers(-90, 90)), 200)
        high = max(open_, close) + draw(st.integers(0, 25))
        low = min(open_, close) - draw(st.integers(0, 25))
        volume = draw(st.sampled_from([0.5, 3.0, 20.0, 1000.0]))
        rows.append((open_ / 10, high / 10, low / 10, close / 10, volume))
    return rows


@st.composite
def scripts(draw: st.DrawFn, closes: list[int]) -> list[tuple[int, Any]]:
    """Random orders near each bar's close, and cancels and modifications of earlier ones."""
    steps: list[tuple[int, Any]] = []
    sent: dict[str, int] = {}
    last = len(closes) - 1
    if draw(st.booleans()):  # open a large position first, so some paths liquidate
        side = draw(st.sampled_from(["buy", "sell"]))
        steps.append((0, Submit("open", side, str(Decimal(draw(st.integers(2000, 3000))) / 1000))))
        sent["open"] = 0
    for n in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from([*ORDER_KINDS, "cancel", "modify"]))
        if kind in ("cancel", "modify") and sent:
            tag = draw(st.sampled_from(sorted(sent)))
            at = draw(st.integers(sent[tag], last))
            if kind == "cancel":
                steps.append((at, Cancel(tag)))
            else:
                quantity = draw(st.one_of(st.none(), st.integers(1, 3000)))
                price = draw(st.one_of(st.none(), st.integers(-40, 40)))
                steps.append(
                    (
                        at,
                        Modify(
                            tag,
                            quantity=None if quantity is None else str(Decimal(quantity) / 1000),
                            price=None if price is None else _price(closes[at] + price),
                        ),
                    )
                )
            continue
        if kind in ("cancel", "modify"):
            kind = "market"
        order_type = ORDER_KINDS[kind]
        at = draw(st.integers(0, last))
        tag = f"o{n}"
        sent[tag] = at
        reference = closes[at]
        steps.append(
            (
                at,
                Submit(
                    tag,
                    draw(st.sampled_from(["buy", "sell"])),
                    str(Decimal(draw(st.integers(1, 3000))) / 1000),
                    order_type,
                    price=(
                        _price(reference + draw(st.integers(-40, 40)))
                        if order_type.has_limit_price
                        else None
                    ),
                    trigger_price=(
                        _price(reference + draw(st.integers(-40, 40)))
                        if order_type.has_trigger
                        else None
                    ),
                    trigger_source=draw(st.sampled_from([None, TriggerSource.MARK])),
                    time_in_force=draw(st.sampled_from(list(TimeInForce))),
                    reduce_only=draw(st.booleans()),
                    post_only=order_type is OrderType.LIMIT and draw(st.booleans()),
                ),
            )
        )
    return steps


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    rows = draw(bar_paths())
    closes = [round(row[3] * 10) for row in rows]
    slippage = draw(
        st.sampled_from(
            [{"kind": "none"}, {"kind": "volume", "participation": "0.25"}, {"kind": "volume"}]
        )
    )
    venue = {
        "id": "binance",
        "model": "binance_usdm_cross",
        "fees": {"maker": "0.0002", "taker": "0.0005"},
        "slippage": slippage,
        "fill_at": draw(st.sampled_from(["close", "next_open"])),
        "latency": draw(st.sampled_from([{}, {"order_ms": 50, "jitter_ms": 100}])),
        "accounts": [
            {
                "id": "main",
                # small balances get liquidated on some paths; large ones never do
                "balances": {"USDT": draw(st.sampled_from(["16", "40", "1000000"]))},
                "leverage": {BTC: 20},
            }
        ],
    }
    rates = draw(st.lists(st.sampled_from([0.0001, -0.0003, 0.002]), max_size=len(rows)))
    return {
        "rows": rows,
        "document": {"seed": draw(st.integers(0, 3)), "run": {}, "venues": [venue]},
        "funding": [(T0 + (i + 1) * HOUR, rate) for i, rate in enumerate(rates)],
        "steps": draw(scripts(closes)),
        # a mark feed a little wider than the trades, or the trades as the mark
        "marks": draw(st.booleans()),
    }


def sources_of(example: dict[str, Any]) -> list[FeedSource]:
    sources = [FeedSource("ohlcv", "binance", BTC, ohlcv(T0, "1h", example["rows"]), "1h")]
    if example["funding"]:
        sources.append(FeedSource("funding", "binance", BTC, funding(example["funding"])))
    if example["marks"]:
        wider = [(o, h + 0.5, max(low - 0.5, 1.0), c) for o, h, low, c, _ in example["rows"]]
        sources.append(FeedSource("mark", "binance", BTC, marks(T0, "1h", wider), "1h"))
    return sources


def run_example(example: dict[str, Any]) -> ScenarioRun:
    return run_scenario(
        example["document"], sources_of(example), example["steps"], keep_postings=True
    )


def position_deltas(result: ScenarioRun) -> list[tuple[dict[str, Any], Decimal, Decimal]]:
    """Every trade that moved the position, in order: (event, signed quantity, price)."""
    moves = []
    for event in result.events:
        if event["type"] == "OrderFilled":
            quantity = Decimal(event["quantity"])
            moves.append(
                (event, quantity if event["side"] == "buy" else -quantity, Decimal(event["price"]))
            )
        elif event["type"] == "Liquidated":
            moves.append((event, -Decimal(event["size"]), Decimal(event["price"])))
    return moves


def total(result: ScenarioRun, kind: str, field: str) -> Decimal:
    return sum((Decimal(e[field]) for e in result.of(kind)), ZERO)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_random_scripts_keep_every_invariant_of_the_simulated_exchange(example):
    result = run_example(example)
    for kind in ("OrderFilled", "Liquidated", "FundingSettled", "OrderTriggered", "OrderExpired"):
        if result.of(kind):
            note(kind)
    book = result.backtest.ledger.book(ACCOUNT)
    start = Decimal(example["document"]["venues"][0]["accounts"][0]["balances"]["USDT"])
    orders = {o.client_order_id: o for o in result.strategy.orders.values()}

    # value is conserved: the balance moved by exactly realised PnL − fees − funding
    # (− liquidation fees + insurance), and realised PnL is the trades' cash flow plus the
    # cost basis still open
    change = book.balance("USDT") - start
    postings = result.postings
    assert sum((p.amount for p in postings), ZERO) == change
    by_kind: dict[PostingKind, Decimal] = defaultdict(Decimal)
    for posting in postings:
        by_kind[posting.kind] += posting.amount
    fees = total(result, "OrderFilled", "fee")
    funding_paid = total(result, "FundingSettled", "amount")
    liquidation_fees = total(result, "Liquidated", "fee")
    insurance = total(result, "InsuranceFundCovered", "amount")
    assert by_kind[PostingKind.FEE] == -fees
    assert by_kind[PostingKind.FUNDING] == -funding_paid
    held = book.positions.get(BTC)
    cash_flow = -sum((q * px for _, q, px in position_deltas(result)), ZERO)
    realized = by_kind[PostingKind.REALIZED_PNL]
    assert realized == cash_flow + (held.cost if held is not None else ZERO)
    assert change == realized - fees - funding_paid - liquidation_fees + insurance
    assert book.balance("USDT") >= 0

    # fills never exceed the order's quantity and add up to what the order records
    filled: dict[str, Decimal] = defaultdict(Decimal)
    for event in result.of("OrderFilled"):
        filled[event["client_order_id"]] += Decimal(event["quantity"])
    for order_id, quantity in filled.items():
        assert quantity == orders[order_id].filled_quantity <= orders[order_id].quantity

    # a reduce-only fill never increases |position| nor flips it; limits are respected;
    # bar-matched fills lie inside the bar that closes at their time
    bars = {T0 + (i + 1) * HOUR: (row[2], row[1]) for i, row in enumerate(example["rows"])}
    position = ZERO
    limit_now: dict[str, Any] = {}
    for event in result.events:
        order_id = event.get("client_order_id")
        if event["type"] in ("OrderSubmitted", "OrderModified"):
            limit_now[order_id] = event["price"]
        if event["type"] == "Liquidated":
            position -= Decimal(event["size"])
            continue
        if event["type"] != "OrderFilled":
            continue
        quantity = Decimal(event["quantity"])
        signed = quantity if event["side"] == "buy" else -quantity
        order = orders[order_id]
        after = position + signed
        if order.reduce_only:
            assert abs(after) <= abs(position)
            assert after == 0 or (after > 0) == (position > 0)
        position = after
        price = Decimal(event["price"])
        if order.order_type.has_limit_price:
            limit = Decimal(limit_now[order_id])
            assert price <= limit if event["side"] == "buy" else price >= limit
        # (stops on a mark feed trigger on the mark and fill at the last trade instead)
        on_mark = example["marks"] and order.trigger_source is TriggerSource.MARK
        if order.order_type.has_trigger and on_mark:
            continue
        if example["document"]["venues"][0]["slippage"].get("impact_bps") is None:
            low, high = bars[event["ts_ms"]]
            assert Decimal(repr(low)) <= price <= Decimal(repr(high))
    assert position == (held.size if held is not None else ZERO)

    # every order's events walk the order state machine, ending where the order is
    statuses = dict.fromkeys(orders, OrderStatus.INITIALIZED)
    cumulative: dict[str, Decimal] = defaultdict(Decimal)
    quantity_now: dict[str, Decimal] = {}
    moves = {
        "OrderSubmitted": OrderStatus.SUBMITTED,
        "OrderAccepted": OrderStatus.ACCEPTED,
        "OrderRejected": OrderStatus.REJECTED,
        "OrderTriggered": OrderStatus.TRIGGERED,
        "OrderCanceled": OrderStatus.CANCELED,
        "OrderExpired": OrderStatus.EXPIRED,
    }
    for event in result.events:
        order_id = event.get("client_order_id")
        if order_id not in statuses:
            continue
        current = statuses[order_id]
        if event["type"] in ("OrderSubmitted", "OrderModified"):
            quantity_now[order_id] = Decimal(event["quantity"])
        if event["type"] == "OrderModified":
            assert current.is_open
            continue
        if event["type"] in ("OrderCancelRejected", "OrderModifyRejected"):
            # the venue refuses a cancel or modify only once the order has ended
            assert current.is_closed, (order_id, current, event["reason"])
            continue
        if event["type"] == "OrderFilled":
            cumulative[order_id] += Decimal(event["quantity"])
            done = cumulative[order_id] == quantity_now[order_id]
            new = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        else:
            new = moves[event["type"]]
        assert new.value in ALLOWED[current.value], (order_id, current, new)
        statuses[order_id] = new
    for order_id, order in orders.items():
        assert statuses[order_id] is order.status


@settings(max_examples=30, deadline=None)
@given(scenarios())
def test_the_same_seed_gives_the_same_event_log(example):
    first = run_example(example).result.recorder.event_log_text()
    second = run_example(example).result.recorder.event_log_text()

    assert first == second


# -- spot margin: every balance and loan change is in the event log ----------------------------

SPOT = "BTC/USDT"
MARGIN_ACCOUNT = "bm.main"


@st.composite
def margin_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Binance Cross Margin: random borrows, repays and spot orders on a random BTC path."""
    rows = draw(bar_paths())
    closes = [round(row[3] * 10) for row in rows]
    steps: list[tuple[int, Any]] = []
    if draw(st.booleans()):  # lever up at once (5x allows borrowing 4x equity), so some liquidate
        steps.append((0, Borrow("USDT", "3500")))
        quantity = Decimal(440_000 // closes[0]) / 10  # about 4,400 USDT of BTC
        steps.append((0, Submit("open", "buy", str(quantity), symbol=SPOT)))
    for n in range(draw(st.integers(1, 10))):
        at = draw(st.integers(0, len(rows) - 1))
        action = draw(st.sampled_from(["borrow", "repay", "market", "limit"]))
        asset = draw(st.sampled_from(["USDT", "BTC"]))
        if action == "borrow":
            amount = draw(st.integers(1, 2000)) if asset == "USDT" else draw(st.integers(1, 200))
            steps.append((at, Borrow(asset, str(Decimal(amount) / (1 if asset == "USDT" else 10)))))
        elif action == "repay":
            steps.append((at, Repay(asset, str(draw(st.integers(1, 3000))))))
        else:
            steps.append(
                (
                    at,
                    Submit(
                        f"o{n}",
                        draw(st.sampled_from(["buy", "sell"])),
                        str(Decimal(draw(st.integers(1, 3000))) / 100),
                        OrderType.LIMIT if action == "limit" else OrderType.MARKET,
                        price=_price(closes[at] + draw(st.integers(-40, 40)))
                        if action == "limit"
                        else None,
                        symbol=SPOT,
                    ),
                )
            )
    venue = {
        "id": "bm",
        "model": "binance_cross_margin",
        "params": {"mode": draw(st.sampled_from(["classic_5x", "classic_5x", "classic_3x"]))},
        "fees": {"maker": "0.001", "taker": "0.001"},
        "auto_borrow": draw(st.booleans()),
        "interest_rates": {"USDT": "0.0001", "BTC": "0.0002"},
        "accounts": [{"id": "main", "balances": {"USDT": "1000"}}],
    }
    return {"rows": rows, "document": {"seed": 0, "run": {}, "venues": [venue]}, "steps": steps}


@settings(max_examples=120, deadline=None)
@given(margin_scenarios())
def test_spot_margin_balances_and_loans_move_only_as_the_events_say(example):
    sources = [FeedSource("ohlcv", "bm", SPOT, ohlcv(T0, "1h", example["rows"]), "1h")]
    result = run_scenario(example["document"], sources, example["steps"], keep_postings=True)
    for kind in ("OrderFilled", "Liquidated", "LoanBorrowed", "LoanFailed", "InsuranceFundCovered"):
        if result.of(kind):
            note(kind)
    book = result.backtest.ledger.book(MARGIN_ACCOUNT)

    balances: dict[str, Decimal] = defaultdict(Decimal, {"USDT": Decimal(1000)})
    owed: dict[str, Decimal] = defaultdict(Decimal)
    for event in result.events:
        kind = event["type"]
        if kind == "OrderFilled":
            quantity, price = Decimal(event["quantity"]), Decimal(event["price"])
            signed = quantity if event["side"] == "buy" else -quantity
            balances["BTC"] += signed
            balances["USDT"] -= signed * price
            balances[event["fee_asset"]] -= Decimal(event["fee"])
        elif kind == "Liquidated":
            size, price = Decimal(event["size"]), Decimal(event["price"])
            balances["BTC"] -= size
            balances["USDT"] += size * price - Decimal(event["fee"])
        elif kind == "LoanBorrowed":
            balances[event["asset"]] += Decimal(event["amount"])
            owed[event["asset"]] += Decimal(event["amount"]) + Decimal(event["first_hour_interest"])
        elif kind == "InterestCharged":
            owed[event["asset"]] += Decimal(event["amount"])
        elif kind == "LoanRepaid":
            paid = Decimal(event["interest_paid"]) + Decimal(event["principal_paid"])
            balances[event["asset"]] -= paid
            owed[event["asset"]] -= paid
        elif kind == "InsuranceFundCovered":
            balances[event["asset"]] += Decimal(event["amount"])

    # interest on liquidation-sized principals runs to Decimal's 28 digits, where the order
    # of additions shows in the last digit: amounts are not quantised to the asset
    tolerance = Decimal("1e-18")
    for asset in ("USDT", "BTC"):
        assert abs(book.balance(asset) - balances[asset]) <= tolerance, asset
        assert abs(book.liability(asset) - owed[asset]) <= tolerance, asset
        assert book.balance(asset) >= 0, asset

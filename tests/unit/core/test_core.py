"""Clock, random streams, ids and the message bus."""

from __future__ import annotations

import pytest

from xmargin.core.bus import MessageBus
from xmargin.core.clock import SimClock, WallClock, ms_to_ns, ns_to_ms
from xmargin.core.errors import ConfigError, DataError, InvariantError
from xmargin.core.ids import IdGenerator
from xmargin.core.rng import RngStreams


def test_sim_clock_moves_forward_only():
    clock = SimClock(10)
    clock.advance_to(20)
    assert clock.now_ns() == 20
    with pytest.raises(InvariantError, match="cannot move back from 20 to 19"):
        clock.advance_to(19)


def test_wall_clock_reads_nanoseconds_since_epoch():
    assert WallClock().now_ns() > 1_700_000_000 * 10**9


def test_millisecond_conversions_round_trip():
    assert ns_to_ms(ms_to_ns(1_735_603_200_000)) == 1_735_603_200_000
    assert ns_to_ms(1_999_999) == 1


def test_rng_streams_are_reproducible_and_independent():
    first, second = RngStreams(7), RngStreams(7)
    assert [first.stream("fills").random() for _ in range(3)] == [
        second.stream("fills").random() for _ in range(3)
    ]
    assert RngStreams(7).stream("fills").random() != RngStreams(7).stream("latency").random()
    assert RngStreams(7).stream("fills").random() != RngStreams(8).stream("fills").random()


def test_ids_count_per_prefix():
    ids = IdGenerator()
    assert [ids.next("O"), ids.next("O"), ids.next("F")] == ["O-000001", "O-000002", "F-000001"]
    assert IdGenerator("acct1").next("O") == "acct1-O-000001"


def test_bus_delivers_by_exact_type_in_order_and_to_catch_all():
    bus = MessageBus()
    seen: list[str] = []
    bus.subscribe(int, lambda m: seen.append(f"a{m}"))
    bus.subscribe(int, lambda m: seen.append(f"b{m}"))
    bus.subscribe(object, lambda m: seen.append(f"all{m}"))
    bus.subscribe(str, lambda m: seen.append(f"s{m}"))
    bus.publish(1)
    bus.publish("x")
    assert seen == ["a1", "b1", "all1", "sx", "allx"]


def test_bus_handler_publishing_is_handled_depth_first():
    bus = MessageBus()
    seen: list[object] = []
    bus.subscribe(int, lambda m: (seen.append(m), bus.publish(str(m)) if m < 2 else None))
    bus.subscribe(str, seen.append)
    bus.publish(1)
    assert seen == [1, "1"]


def test_errors_name_where_they_happened():
    assert str(ConfigError("must be positive", where="a.toml: params.x")) == (
        "a.toml: params.x: must be positive"
    )
    assert str(DataError("NaN", source="f.csv", row=3, field="close")) == "f.csv, row 3, close: NaN"

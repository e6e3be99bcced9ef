"""Fault injection is deterministic from its seed."""

from __future__ import annotations

from decimal import Decimal

from xmargin.gateway.faults import FaultInjector
from xmargin.gateway.settings import Faults


def draws(seed: int) -> list[bool]:
    injector = FaultInjector(Faults(seed=seed, error_share=Decimal("0.3")), 0)
    return [injector.server_error() for _ in range(200)]


def test_the_same_seed_gives_the_same_failures() -> None:
    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert 30 <= sum(draws(7)) <= 90  # about 30 % of 200


def test_no_share_never_fails_and_storms_follow_their_period() -> None:
    quiet = FaultInjector(Faults(), 0)
    assert not any(quiet.order_timeout() or quiet.drop_websocket() for _ in range(100))
    storm = FaultInjector(Faults(storm_every_s=Decimal(10), storm_s=Decimal(2)), 1_000)
    assert [storm.in_storm(1_000 + s * 1000) for s in range(12)] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
    ]

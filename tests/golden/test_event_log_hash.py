"""Same data, config and seed ⇒ the same event log, byte for byte; the hash is pinned.

If a change alters the event log on purpose (a fix in the simulated exchange, a new event
field), update ``EXPECTED_SHA256`` in the same commit and say why in its message.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.backtest.runner import run_backtest
from xmargin.core.errors import InvariantError
from xmargin.engine.config import load_run_config

CONFIG = Path(__file__).with_name("golden_run.toml")
EXPECTED_SHA256 = "15edd9821626e11302d32a01a8601fb0b86bb4d25375ef6e06ad273f03e399f0"
EXPECTED_EVENTS = 432
EXPECTED_FILLS = 113

pytestmark = needs_pack


def test_the_golden_run_reproduces_its_pinned_event_log():
    result = run_backtest(load_run_config(CONFIG), data_dir=DATA_PACK)
    assert len(result.recorder.events) == EXPECTED_EVENTS
    assert result.summary()["fills"] == EXPECTED_FILLS
    assert result.recorder.event_log_sha256() == EXPECTED_SHA256


def test_two_runs_give_identical_event_logs_and_another_seed_does_not():
    config = load_run_config(CONFIG)
    first = run_backtest(config, data_dir=DATA_PACK).recorder.event_log_text()
    second = run_backtest(config, data_dir=DATA_PACK).recorder.event_log_text()
    assert first == second
    reseeded = run_backtest(replace(config, seed=config.seed + 1), data_dir=DATA_PACK)
    assert reseeded.recorder.event_log_text() != first


def test_the_event_log_is_json_lines_with_type_and_time():
    result = run_backtest(load_run_config(CONFIG), data_dir=DATA_PACK)
    lines = result.recorder.event_log_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert all(isinstance(r["type"], str) and isinstance(r["ts_ms"], int) for r in records)
    times = [r["ts_ms"] for r in records]
    assert times == sorted(times)
    kinds = {r["type"] for r in records}
    assert {"OrderSubmitted", "OrderAccepted", "OrderFilled", "FundingSettled"} <= kinds


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, record: dict, line: str) -> None:
        self.lines.append(line)


def test_a_streamed_run_keeps_no_event_and_gives_the_same_log_and_summary():
    config = load_run_config(CONFIG)
    kept = run_backtest(config, data_dir=DATA_PACK)
    sink = _Lines()
    streamed = run_backtest(config, data_dir=DATA_PACK, keep_events=False, event_sinks=[sink])
    assert streamed.recorder.events == []
    text = "".join(line + "\n" for line in sink.lines)
    assert hashlib.sha256(text.encode()).hexdigest() == EXPECTED_SHA256
    assert text == kept.recorder.event_log_text()
    assert streamed.summary() == kept.summary()
    assert streamed.summary()["events"] == EXPECTED_EVENTS
    with pytest.raises(InvariantError, match="this run streamed its events; it kept none"):
        streamed.recorder.event_log_text()

"""Replay a stored run: run its stored config again with its seed and data, compare event logs.

Determinism (same data + config + seed ⇒ the same event log) makes a stored run
reproducible; a replay that differs names the first event that differs and any data file
whose SHA-256 no longer matches the one recorded with the run. A run whose provenance says
a table came from the synthetic market (``--data-fallback``) replays on that same synthetic
market, and the outcome names those tables: such a run is not on real data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xmargin.backtest.provenance import changed_data, recorded_origins, synthetic_tables
from xmargin.backtest.runner import run_backtest
from xmargin.core.errors import ConfigError
from xmargin.engine.config import parse_run_config
from xmargin.storage import DatabaseTarget, EventStore, RunRepository, open_database


@dataclass(frozen=True)
class ReplayOutcome:
    """How a replay compares with the stored run."""

    run_id: str
    stored_events: int
    replayed_events: int
    stored_sha256: str
    replayed_sha256: str
    first_difference: int | None = None
    stored_line: str | None = None
    replayed_line: str | None = None
    changed_data: list[str] = field(default_factory=list)
    stored_code_version: str = ""
    synthetic_data: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.stored_sha256 == self.replayed_sha256


def replay_run(
    target: DatabaseTarget, reference: str, *, data_dir: Path | None = None
) -> ReplayOutcome:
    """Re-run stored run ``reference`` and compare its event log with the stored one."""
    db = open_database(target)
    run = RunRepository(db).get(reference)
    if not run.complete:
        raise ConfigError(
            f"run {run.run_id} is {run.status}: only a complete run can be replayed", where="RUN"
        )
    try:
        document = tomllib.loads(run.config_text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the stored config is not valid TOML: {exc}", where=run.run_id) from None
    config = dataclasses.replace(parse_run_config(document, Path(run.config_path)), seed=run.seed)
    root = data_dir or (Path(run.data_dir) if run.data_dir else None)
    result = run_backtest(config, data_dir=root, recorded=recorded_origins(run.data_manifest))
    replayed = result.recorder.event_log_text().splitlines()
    stored = list(EventStore(db).lines(run.run_id))
    outcome = ReplayOutcome(
        run.run_id,
        len(stored),
        len(replayed),
        _sha256(stored),
        result.recorder.event_log_sha256(),
        changed_data=changed_data(run.data_manifest),
        stored_code_version=run.code_version,
        synthetic_data=synthetic_tables(run.data_manifest),
    )
    if outcome.matched:
        return outcome
    index = next(
        (i for i, (a, b) in enumerate(zip(stored, replayed, strict=False)) if a != b),
        min(len(stored), len(replayed)),
    )
    return dataclasses.replace(
        outcome,
        first_difference=index,
        stored_line=stored[index] if index < len(stored) else None,
        replayed_line=replayed[index] if index < len(replayed) else None,
    )


def _sha256(lines: list[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()

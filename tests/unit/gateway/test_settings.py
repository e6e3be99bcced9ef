"""The gateway config: the run config without strategies, plus a strict [gateway] section."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmargin.app.cli import main
from xmargin.core.errors import ConfigError
from xmargin.gateway.settings import load_gateway_config

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "gateway_btc.toml"
ENV = {"XMARGIN_GATEWAY_KEY": "key-1", "XMARGIN_GATEWAY_SECRET": "secret-1"}


def config(tmp_path: Path, edit: str = "", append: str = "") -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    if edit:
        old, new = edit.split(" => ")
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "gateway.toml"
    path.write_text(text + append, encoding="utf-8")
    return path


def test_the_example_loads_with_its_credentials_from_the_environment(tmp_path: Path) -> None:
    run, settings = load_gateway_config(config(tmp_path), ENV)
    assert settings.venue == "binance"
    assert [(c.account, c.api_key, c.secret) for c in settings.credentials] == [
        ("binance.main", "key-1", "secret-1")
    ]
    assert settings.weight_limit == 2400
    assert not settings.faults.any
    assert run.strategies == ()


def test_strategies_are_refused_in_one_line(tmp_path: Path) -> None:
    path = config(tmp_path, append='\n[[strategies]]\nid = "x"\nstrategy = "buy_and_hold"\n')
    with pytest.raises(ConfigError, match=r"strategies: a gateway config takes no \[\[strategies"):
        load_gateway_config(path, ENV)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            "weight_limit = 2400 => weight_limt = 2400",
            r"gateway: unknown parameter\(s\): weight_limt",
        ),
        (
            'account = "binance.main" => account = "binance.other"',
            "unknown account 'binance.other'",
        ),
        (
            "[gateway] => [gateway.faults]\nerror_share = 2\n[gateway]",
            "gateway.faults.error_share: .*1",
        ),
        (
            "[gateway] => [gateway.faults]\nstorm_s = 5\nstorm_every_s = 5\n[gateway]",
            "storm_s must be shorter than storm_every_s",
        ),
        (
            'api_key_env = "XMARGIN_GATEWAY_KEY" => api_key_env = "XMARGIN_NOT_SET"',
            "environment variable XMARGIN_NOT_SET is not set",
        ),
        (
            'model = "binance_usdm_cross" => model = "bybit_uta_cross"\n'
            'default_interest_rate = "0.00001"',
            "the gateway serves binance_usdm_cross accounts",
        ),
        ("fees = { => latency = { order_ms = 5 }\nfees = {", "set no order latency"),
    ],
)
def test_bad_gateway_settings_name_the_field(tmp_path: Path, edit: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_gateway_config(config(tmp_path, edit), ENV)


def test_a_missing_gateway_section_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[gateway]")], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"a \[gateway\] table with \[\[gateway.accounts\]\]"):
        load_gateway_config(path, ENV)


def test_the_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, append='\n[[strategies]]\nid = "x"\n')
    with pytest.raises(SystemExit) as exited:
        main(["gateway", str(path)])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("xmargin: error: ")
    assert "takes no [[strategies]]" in err[0]
    with pytest.raises(SystemExit) as bad_start:
        main(["gateway", str(config(tmp_path)), "--start", "yesterday"])
    assert bad_start.value.code == 2
    assert "--start: must be an ISO date or time" in capsys.readouterr().err

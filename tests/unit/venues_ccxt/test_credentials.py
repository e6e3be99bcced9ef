"""Secrets never show: not in repr, str, format, logs, JSON or pickles; files must be 0600."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest

from xmargin.core.clock import SimClock
from xmargin.core.errors import ConfigError
from xmargin.venues.ccxt.adapter import CcxtVenue
from xmargin.venues.ccxt.credentials import (
    CCXT_LOGGER,
    ApiCredentials,
    Secret,
    from_env,
    from_file,
    keep_out_of_logs,
)

KEY, SECRET, PASSWORD = "k-3f9a1c77e2", "s-very-private-8d2b4e", "p-pass-55aa"


def test_no_rendering_of_objects_holding_secrets_shows_a_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    creds = ApiCredentials(Secret(KEY), Secret(SECRET), Secret(PASSWORD))
    venue = CcxtVenue("binanceusdm", "main", creds, ["BTC/USDT:USDT"], SimClock())
    log = logging.getLogger("test.secrets")
    with caplog.at_level(logging.DEBUG):
        log.info("creds %s %r", creds, creds)
        log.info("secret %s", creds.secret)
        log.info("venue %s %r %s", venue, venue, vars(venue) if hasattr(venue, "__dict__") else "")
        log.exception("boom", exc_info=ValueError(creds))
    rendered = [
        repr(creds),
        str(creds),
        f"{creds}",
        f"{creds.secret:>40}",
        "%s" % creds.api_key,  # noqa: UP031
        json.dumps({"creds": creds, "venue": venue}, default=str),
        repr(venue),
        str(vars(venue) if hasattr(venue, "__dict__") else ""),
        caplog.text,
    ]
    output = "\n".join(rendered)
    for value in (KEY, SECRET, PASSWORD):
        assert value not in output
    assert "Secret(***)" in output
    with pytest.raises(TypeError, match="is not JSON serializable"):
        json.dumps({"secret": creds.secret})
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(creds)


def test_the_value_is_handed_only_to_the_client_config() -> None:
    creds = ApiCredentials(Secret(KEY), Secret(SECRET))
    assert creds.ccxt_config() == {"apiKey": KEY, "secret": SECRET}
    assert creds.secret == Secret(SECRET)
    assert creds.secret != Secret(KEY)


def test_environment_variables_by_name() -> None:
    env = {"XM_KEY": KEY, "XM_SECRET": SECRET}
    creds = from_env("XM_KEY", "XM_SECRET", environ=env)
    assert creds.ccxt_config() == {"apiKey": KEY, "secret": SECRET}
    with pytest.raises(ConfigError, match="environment variable XM_PASS is not set"):
        from_env("XM_KEY", "XM_SECRET", "XM_PASS", environ=env)
    with pytest.raises(ConfigError, match="a credential must be a non-empty string"):
        Secret("")


def test_a_0600_file_is_read_and_a_group_readable_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "binance.toml"
    path.write_text(f'api_key = "{KEY}"\nsecret = "{SECRET}"\npassword = "{PASSWORD}"\n')
    path.chmod(0o600)
    assert from_file(path).ccxt_config() == {"apiKey": KEY, "secret": SECRET, "password": PASSWORD}
    path.chmod(0o640)
    with pytest.raises(
        ConfigError, match=r"accessible by group or others \(mode 0640\); run chmod 600"
    ) as refused:
        from_file(path)
    assert SECRET not in str(refused.value)


def test_bad_files_name_the_problem_without_the_content(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'api_key = "{KEY}"\nsecret = {SECRET}\n')
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="not readable UTF-8 TOML") as refused:
        from_file(path)
    assert SECRET not in str(refused.value)
    path.write_text(f'api_key = "{KEY}"\n')
    with pytest.raises(ConfigError, match="secret must be a non-empty string"):
        from_file(path)
    with pytest.raises(ConfigError, match="cannot read credentials file"):
        from_file(tmp_path / "missing.toml")


def test_ccxt_request_logs_show_the_mask_not_the_key(caplog: pytest.LogCaptureFixture) -> None:
    creds = ApiCredentials(Secret("k-log-77c1"), Secret("s-log-2b9e"))
    keep_out_of_logs(creds)
    ccxt_log = logging.getLogger(CCXT_LOGGER)
    with caplog.at_level(logging.DEBUG, logger=CCXT_LOGGER):
        # what ccxt logs for every request (ccxt/base/exchange.py, fetch)
        ccxt_log.debug(
            "%s %s, Request: %s %s",
            "GET",
            "http://x/fapi/v3/account",
            {"X-MBX-APIKEY": "k-log-77c1"},
            None,
        )
    assert "k-log-77c1" not in caplog.text
    assert "'X-MBX-APIKEY': 'Secret(***)'" in caplog.text

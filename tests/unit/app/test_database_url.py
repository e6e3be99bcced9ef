"""Which database a command uses, and how URLs are shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmargin.app.database_url import default_database_path, resolve_database_url
from xmargin.core.errors import ConfigError
from xmargin.storage import mask_url, normalize_url


def test_the_embedded_database_lives_under_xdg_data_home():
    env = {"XDG_DATA_HOME": "/data/me", "HOME": "/home/me"}
    assert default_database_path(env) == Path("/data/me/xmargin/xmargin.db")
    assert resolve_database_url(None, env) == "sqlite:////data/me/xmargin/xmargin.db"


def test_without_xdg_data_home_it_is_under_the_home_directory():
    assert default_database_path({"HOME": "/home/me"}) == Path(
        "/home/me/.local/share/xmargin/xmargin.db"
    )


def test_the_environment_url_overrides_the_file_and_the_option_overrides_both():
    env = {"XDG_DATA_HOME": "/d", "XMARGIN_DATABASE_URL": "postgresql+psycopg://u@h/db"}
    assert resolve_database_url(None, env) == "postgresql+psycopg://u@h/db"
    assert resolve_database_url("sqlite:////tmp/x.db", env) == "sqlite:////tmp/x.db"


def test_a_bare_path_means_an_sqlite_file(tmp_path):
    assert resolve_database_url(str(tmp_path / "r.db"), {}) == f"sqlite:///{tmp_path / 'r.db'}"


def test_the_tests_never_touch_the_real_home(tmp_path):
    assert str(default_database_path()).startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://bob:hunter2@db:5432/runs",
            "postgresql+psycopg://bob:***@db:5432/runs",
        ),
        ("postgresql://bob:p%40ss@db/runs", "postgresql://bob:***@db/runs"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("not a url bob:secret@host", "not a url bob:secret@host"),
        ("weird://bob:secret@host/x", "weird://bob:***@host/x"),
    ],
)
def test_passwords_are_masked(url, shown):
    assert mask_url(url) == shown


def test_postgres_urls_use_the_psycopg_driver():
    assert normalize_url("postgres://u:pw@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql://u:pw@h/db").drivername == "postgresql+psycopg"


def test_a_malformed_url_is_a_config_error_without_the_password():
    with pytest.raises(ConfigError) as error:
        normalize_url("://bob:secret@")
    assert "secret" not in str(error.value)

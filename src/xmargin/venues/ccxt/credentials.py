"""API credentials held in a secret type that never shows its value.

Credentials come from named environment variables or from a TOML file that only its owner
may read (mode 0600); a file readable by group or others is refused before it is opened.
ccxt logs every request's headers at DEBUG, the API key among them: :func:`keep_out_of_logs`
masks a client's credentials in every record of ccxt's logger.
"""

from __future__ import annotations

import hmac
import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from xmargin.core.errors import ConfigError

MASK = "Secret(***)"


class Secret:
    """A credential string: ``repr``, ``str`` and ``format`` show a mask, never the value.

    The value is reachable only through :meth:`reveal`, at the one place that hands it to
    the venue client. Secrets refuse pickling, so they cannot be stored by accident.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ConfigError("a credential must be a non-empty string")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(MASK)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled or stored")


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    """The key, secret and (OKX) passphrase of one venue account."""

    api_key: Secret
    secret: Secret
    password: Secret | None = None

    def ccxt_config(self) -> dict[str, str]:
        """The ccxt constructor keys; the only place the values leave their secrets."""
        config = {"apiKey": self.api_key.reveal(), "secret": self.secret.reveal()}
        if self.password is not None:
            config["password"] = self.password.reveal()
        return config


def from_env(
    key_var: str,
    secret_var: str,
    password_var: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> ApiCredentials:
    """Read credentials from the named environment variables; a missing one names itself."""
    env = os.environ if environ is None else environ

    def read(name: str) -> Secret:
        value = env.get(name, "")
        if not value:
            raise ConfigError(f"environment variable {name} is not set (export it, then retry)")
        return Secret(value)

    password = read(password_var) if password_var else None
    return ApiCredentials(read(key_var), read(secret_var), password)


def from_file(path: str | Path) -> ApiCredentials:
    """Read ``api_key``, ``secret`` and optional ``password`` from a 0600 TOML file."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(
            f"cannot read credentials file: {exc.strerror}", where=str(path)
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"credentials file is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"run chmod 600 {path}",
            where=str(path),
        )
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise ConfigError(
            "credentials file is not readable UTF-8 TOML (expected api_key and secret)",
            where=str(path),
        ) from None

    def field(name: str, required: bool = True) -> Secret | None:
        value = document.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name} must be a non-empty string", where=f"{path}: {name}")
        return Secret(value)

    key, secret = field("api_key"), field("secret")
    assert key is not None and secret is not None
    return ApiCredentials(key, secret, field("password", required=False))


CCXT_LOGGER = "ccxt.base.exchange"  # the one logger ccxt (sync, async and pro) writes to


class _Redactor(logging.Filter):
    """Replaces registered credential values in a record's message by the mask."""

    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.values:
            message = record.getMessage()
            hidden = message
            for value in sorted(self.values, key=len, reverse=True):  # a longer one first
                hidden = hidden.replace(value, MASK)
            if hidden != message:
                record.msg, record.args = hidden, None
        return True


_REDACTOR = _Redactor()


def keep_out_of_logs(credentials: ApiCredentials) -> None:
    """Mask these credentials in everything ccxt's logger records, from now on."""
    secrets = (credentials.api_key, credentials.secret, credentials.password)
    _REDACTOR.values.update(s.reveal() for s in secrets if s is not None)
    logger = logging.getLogger(CCXT_LOGGER)
    if _REDACTOR not in logger.filters:
        logger.addFilter(_REDACTOR)

"""Signed requests: the API key names the account, HMAC-SHA256 signs the parameters in the
order sent, and the timestamp must fall inside ``recvWindow`` of the gateway's wall clock.

Binance signs ``totalParams``: the query string followed by the form body, exactly as sent
(never re-sorted). Checks run key first, then signature, then time, so a request that fails
the signature learns nothing about the clock.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl

from xmargin.gateway import errors
from xmargin.gateway.settings import Credential

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000
AHEAD_ALLOWED_MS = 1000
SIGNATURE = "signature="


def credential_for(headers: Mapping[str, str], keys: Mapping[str, Credential]) -> Credential:
    """The account of the request's ``X-MBX-APIKEY`` header (-2014 absent, -2015 unknown)."""
    api_key = headers.get("X-MBX-APIKEY", "")
    if not api_key or len(api_key) > 128 or not api_key.isprintable():
        raise errors.key_format()
    credential = keys.get(api_key)
    if credential is None:
        raise errors.rejected_key()
    return credential


def signed_params(total: str, credential: Credential, now_ms: int) -> dict[str, str]:
    """Verify ``total`` (query + body) and return its parameters, signature removed."""
    payload, signature = _split_signature(total)
    if signature is None:
        raise errors.missing("signature")
    expected = hmac.new(credential.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise errors.bad_signature()
    params = dict(parse_qsl(payload, keep_blank_values=True))
    check_time(params, now_ms)
    return params


def check_time(params: Mapping[str, str], now_ms: int) -> None:
    """Binance's rule: ``timestamp < now + 1000`` and ``now - timestamp <= recvWindow``."""
    raw = params.get("timestamp", "")
    if not raw.isdigit():
        raise errors.missing("timestamp")
    window_raw = params.get("recvWindow", str(DEFAULT_RECV_WINDOW_MS))
    if not window_raw.isdigit():
        raise errors.invalid("recvWindow")
    window = int(window_raw)
    if window > MAX_RECV_WINDOW_MS:
        raise errors.bad_recv_window()
    timestamp = int(raw)
    if timestamp >= now_ms + AHEAD_ALLOWED_MS or now_ms - timestamp > window:
        raise errors.outside_recv_window()


def _split_signature(total: str) -> tuple[str, str | None]:
    if total.startswith(SIGNATURE):
        head, signature = "", total[len(SIGNATURE) :]
    else:
        cut = total.rfind("&" + SIGNATURE)
        if cut < 0:
            return total, None
        head, signature = total[:cut], total[cut + len(SIGNATURE) + 1 :]
    if "&" in signature:
        return total, None
    return head, signature

"""Signatures, API keys and the recvWindow rule, against Binance's documented example."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xmargin.gateway.auth import check_time, credential_for, signed_params
from xmargin.gateway.errors import BinanceError
from xmargin.gateway.settings import Credential

# Binance's API documentation, "SIGNED endpoint examples for POST /api/v3/order"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
DOC_TIME = 1499827319559
CREDENTIAL = Credential("binance.main", "key-1", DOC_SECRET)


def test_binances_documented_signature_verifies() -> None:
    params = signed_params(f"{DOC_QUERY}&signature={DOC_SIGNATURE}", CREDENTIAL, DOC_TIME + 10)
    assert params["symbol"] == "LTCBTC"
    assert params["price"] == "0.1"
    assert "signature" not in params


def test_a_tampered_payload_or_a_missing_signature_is_refused() -> None:
    tampered = DOC_QUERY.replace("quantity=1", "quantity=2")
    with pytest.raises(BinanceError, match="Signature for this request is not valid") as bad:
        signed_params(f"{tampered}&signature={DOC_SIGNATURE}", CREDENTIAL, DOC_TIME)
    assert (bad.value.code, bad.value.status) == (-1022, 400)
    with pytest.raises(BinanceError, match="'signature' was not sent") as missing:
        signed_params(DOC_QUERY, CREDENTIAL, DOC_TIME)
    assert missing.value.code == -1102


@pytest.mark.parametrize(
    ("now", "window", "accepted"),
    [
        (1_000_000, 5000, True),
        (1_005_000, 5000, True),  # exactly recvWindow old
        (1_005_001, 5000, False),  # one millisecond too old
        (999_001, 5000, True),  # 999 ms ahead of the server
        (999_000, 5000, False),  # a full second ahead
        (1_060_000, 60000, True),
    ],
)
def test_the_timestamp_must_be_inside_the_recv_window(
    now: int, window: int, accepted: bool
) -> None:
    params = {"timestamp": "1000000", "recvWindow": str(window)}
    if accepted:
        check_time(params, now)
        return
    with pytest.raises(BinanceError, match="outside of the recvWindow") as refused:
        check_time(params, now)
    assert refused.value.code == -1021


def test_recv_window_above_a_minute_and_a_missing_timestamp_are_refused() -> None:
    with pytest.raises(BinanceError, match="recvWindow must be less than 60000"):
        check_time({"timestamp": "1000", "recvWindow": "60001"}, 1000)
    with pytest.raises(BinanceError, match="'timestamp' was not sent"):
        check_time({}, 1000)


def test_the_api_key_names_the_account() -> None:
    keys = {"key-1": CREDENTIAL}
    assert credential_for({"X-MBX-APIKEY": "key-1"}, keys) is CREDENTIAL
    with pytest.raises(BinanceError, match="API-key format invalid") as absent:
        credential_for({}, keys)
    assert (absent.value.code, absent.value.status) == (-2014, 401)
    with pytest.raises(BinanceError, match="Invalid API-key, IP, or permissions") as unknown:
        credential_for({"X-MBX-APIKEY": "key-2"}, keys)
    assert (unknown.value.code, unknown.value.status) == (-2015, 401)


def test_the_secret_stays_out_of_the_credentials_repr() -> None:
    assert DOC_SECRET not in repr(CREDENTIAL)


@given(
    st.dictionaries(
        st.text("abcdefghijklmnopqrstuvwxyzABC", min_size=1, max_size=8),
        st.text(min_size=0, max_size=12),
        max_size=6,
    ),
    st.text("abcdef0123456789", min_size=8, max_size=40),
)
def test_any_parameters_signed_in_the_order_sent_verify_unchanged(
    fields: dict[str, str], secret: str
) -> None:
    fields.pop("signature", None)
    payload = urlencode({"timestamp": "5000", **fields, "recvWindow": "5000"})
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    credential = Credential("a", "k", secret)
    params = signed_params(f"{payload}&signature={signature}", credential, 5000)
    assert params == {"timestamp": "5000", **fields, "recvWindow": "5000"}

"""Point an unmodified ccxt Binance client at a Binance-compatible server (``xmargin gateway``).

Every ``urls['api']`` key is rewritten, keeping Binance's real paths (``/fapi/v1``,
``/fapi/v3``, ``/sapi/v1`` ...), and websockets get one prefix per stream family; spot and
margin websocket paths must contain ``/stream`` and the linear one must not, or ccxt.pro
files spot messages under the perpetual (gateway wire spec §1.2–1.3). The error tables are
then chosen by path (:func:`~xmargin.venues.ccxt.errors.restore_error_tables`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from xmargin.venues.ccxt.errors import restore_error_tables


def point_at(exchange: Any, http_base: str, ws_base: str) -> Any:
    """Rewrite ``exchange``'s REST and websocket URLs to ``http_base`` / ``ws_base``."""
    http_base, ws_base = http_base.rstrip("/"), ws_base.rstrip("/")
    api = exchange.urls["api"]
    for key, url in list(api.items()):
        if isinstance(url, str):
            api[key] = http_base + urlsplit(url).path
    ws = api.get("ws")
    if isinstance(ws, dict):
        for key, url in list(ws.items()):
            if isinstance(url, str):
                ws[key] = ws_base + "/" + key + urlsplit(url).path
        ws["spot"] = ws["margin"] = ws_base + "/stream/ws"
        ws["linear"] = ws_base + "/ws"
        if isinstance(ws.get("ws-api"), dict):
            ws["ws-api"] = {k: ws_base + urlsplit(v).path for k, v in ws["ws-api"].items()}
    restore_error_tables(exchange)
    return exchange

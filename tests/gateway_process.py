"""Start ``xmargin gateway`` as a real subprocess on loopback and point unmodified ccxt at it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from urllib.parse import urlsplit

from tests.pack import DATA_PACK

READY = "gateway ready: "
KEY, SECRET = "gw-test-key-0001", "gw-test-secret-do-not-leak-9f3a"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gateway_btc.toml"


@dataclass
class Gateway:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    @property
    def ws(self) -> str:
        return "ws" + self.url[len("http") :]

    def stop(self) -> int:
        """SIGTERM, then the exit status (the output is kept in ``output``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


def write_config(path: Path, extra: str = "") -> Path:
    """The example config with its ``[gateway]`` section extended by ``extra``."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("weight_limit = 2400\n", "weight_limit = 2400\n" + extra)
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def running_gateway(config: Path, *flags: str) -> Iterator[Gateway]:
    env = {
        **os.environ,
        "XMARGIN_GATEWAY_KEY": KEY,
        "XMARGIN_GATEWAY_SECRET": SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "xmargin.app.cli", "gateway", str(config), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(DATA_PACK), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: Queue[str] = Queue()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    url = ""
    while not url:
        try:
            line = lines.get(timeout=60)
        except Empty:
            process.kill()
            raise RuntimeError(f"the gateway did not start: {''.join(output)}") from None
        if line.startswith(READY):
            url = line[len(READY) :].strip()
    gateway = Gateway(process, url, output)
    try:
        yield gateway
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=20)


def point_at_gateway(exchange, http_base: str, ws_base: str):  # type: ignore[no-untyped-def]
    """The wire spec's URL rewrite (§1.2): every ``urls['api']`` key, REST paths kept."""
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
        ws["ws-api"] = {k: ws_base + urlsplit(v).path for k, v in ws["ws-api"].items()}
    # the error-table fix of §1.3.2: local URLs lose ccxt's linear error table
    exchange.exceptions["exact"] = {
        **exchange.exceptions["exact"],
        **exchange.exceptions["linear"]["exact"],
    }
    return exchange

"""Slow and latency-measuring HTTP clients, for the server attacks (bench/hostile_server.py, tests/hostile).

Only the standard library and ``requests``, so the same code measures an old commit.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

import requests

LATENCY_TIMEOUT_SECONDS = 5.0  # a probe that gets no answer counts as this long


class SlowClients:
    """Connections that each send one byte of a request every `interval` seconds and never finish it.

    ``where="headers"`` trickles an endless header; ``"body"`` sends whole headers announcing a
    JSON body, then trickles the body. One thread drives every socket.
    """

    def __init__(self, api_url: str, count: int, interval: float, where: str = "body") -> None:
        address = urlsplit(api_url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.count, self.interval, self.where = count, interval, where
        self.sockets: list[socket.socket] = []
        self.refused = 0  # connections the server would not take, or closed on us
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)

    def start(self) -> None:
        for _ in range(self.count):
            try:
                connection = socket.create_connection((self.host, self.port), timeout=5)
                connection.sendall(self._opening())
            except OSError:
                self.refused += 1
                continue
            self.sockets.append(connection)
        self._thread.start()

    def _opening(self) -> bytes:
        if self.where == "headers":
            return f"GET /api/v1/health HTTP/1.1\r\nHost: {self.host}\r\nX-Slow: ".encode()
        return (
            f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {self.host}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        ).encode()

    def _trickle(self) -> None:
        while not self._stop.wait(self.interval):
            for connection in list(self.sockets):
                try:
                    connection.send(b"a" if self.where == "headers" else b" ")
                except OSError:
                    self.sockets.remove(connection)
                    self.refused += 1
                    connection.close()

    def open_count(self) -> int:
        return len(self.sockets)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(self.interval + 5)
        for connection in self.sockets:
            with suppress(OSError):
                connection.close()
        self.sockets.clear()


@contextmanager
def slow_clients(api_url: str, count: int, interval: float, where: str = "body") -> Iterator[SlowClients]:
    """Hold `count` slow connections open for the block."""
    clients = SlowClients(api_url, count, interval, where)
    clients.start()
    try:
        yield clients
    finally:
        clients.close()


def timed_get(url: str, headers: dict[str, str] | None = None) -> tuple[float, int]:
    """Seconds and status of one GET on a fresh connection; no answer is LATENCY_TIMEOUT_SECONDS and 0."""
    started = time.monotonic()
    try:
        status = requests.get(url, headers=headers or {}, timeout=LATENCY_TIMEOUT_SECONDS).status_code
    except requests.RequestException:
        return LATENCY_TIMEOUT_SECONDS, 0
    return time.monotonic() - started, status


def sample_latencies(
    url: str, samples: int, pause: float = 0.05, headers: dict[str, str] | None = None
) -> list[tuple[float, int]]:
    """`samples` GETs one after the other, `pause` apart."""
    found = []
    for _ in range(samples):
        found.append(timed_get(url, headers))
        time.sleep(pause)
    return found


def p95(seconds: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(seconds)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else math.nan


def in_background(work: Callable[[], object]) -> threading.Thread:
    """Run `work` in a daemon thread, started."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread

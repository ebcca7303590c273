"""A wall-clock deadline for a whole network exchange (connect, greeting, status line, headers, every read and
write), not per socket operation: a server that drips one byte just inside each read's timeout is still given up
at the deadline.

Per-read timeouts (``socket.settimeout``, httpx's ``read`` timeout) restart at every byte, so they cannot bound an
exchange. Here a timer shuts down, at the deadline, every socket the exchange has opened; a read or write blocked
on one returns at once (end of stream or an error), and ``expired`` tells the caller why."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

Getter = Callable[[], Any]  # returns the socket in use now (it changes when TLS wraps it), or None


class Deadline:
    """``with Deadline(seconds) as deadline: deadline.watch(lambda: sock)`` … ``deadline.expired``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._getters: list[Getter] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._started = 0.0

    def __enter__(self) -> Deadline:
        self._started = time.monotonic()
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._timer.cancel()

    def left(self) -> float:
        """Seconds left (a small positive number once past: a connect given 0 would block forever)."""
        return max(0.01, self.seconds - (time.monotonic() - self._started))

    def watch(self, getter: Getter) -> None:
        """Shut down the socket ``getter`` returns when the deadline passes (at once when it has passed)."""
        with self._lock:
            self._getters.append(getter)
            if self.expired:
                _shut(getter)

    def watch_httpx(self) -> dict[str, Any]:
        """The request ``extensions`` that hand httpx's sockets (plain, then TLS) to this deadline as they open."""

        def trace(event: str, info: dict[str, Any]) -> None:
            if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
                stream = info.get("return_value")
                extra = getattr(stream, "get_extra_info", None)
                if extra is not None:
                    sock = extra("socket")
                    self.watch(lambda: sock)

        return {"trace": trace}

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            for getter in self._getters:
                _shut(getter)


def _shut(getter: Getter) -> None:
    with contextlib.suppress(Exception):
        sock = getter()
        if isinstance(sock, socket.socket) and sock.fileno() >= 0:
            # the plain socket's shutdown, also for a TLS socket: only the file descriptor, no TLS state touched
            # from this thread; the blocked reader sees the end of the stream
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

"""A local server that misbehaves on purpose: gzip bombs, endless bodies, drips, garbage, forever-paging."""

from __future__ import annotations

import contextlib
import gzip
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from local_server import LocalServer

Behaviour = Callable[[BaseHTTPRequestHandler], None]


def gzip_bomb(megabytes: int = 200) -> Behaviour:
    body = gzip.compress(b"\0" * (megabytes * 2**20), compresslevel=9)

    def send(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("content-type", "application/json")
        h.send_header("content-encoding", "gzip")
        h.send_header("content-length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return send


def endless() -> Behaviour:
    def send(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("content-type", "application/json")
        h.send_header("transfer-encoding", "chunked")
        h.end_headers()
        chunk = b"[" * 65536
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while True:
            h.wfile.write(frame)

    return send


def drip(every_s: float) -> Behaviour:
    def send(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", "1000000")
        h.end_headers()
        while True:
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(every_s)

    return send


def fixed(status: int, body: bytes, headers: dict[str, str] | None = None) -> Behaviour:
    def send(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for k, v in {"content-length": str(len(body)), **(headers or {})}.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    return send


class HostileServer(LocalServer):
    def __init__(self, behaviour: Behaviour) -> None:
        self.requests = 0
        outer = self

        class _H(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.requests += 1
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    behaviour(self)

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.do_GET()

        super().__init__(_H)

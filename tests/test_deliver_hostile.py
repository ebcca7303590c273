"""summarize digest against a hostile world (issue 36, class B): an SMTP server and a webhook receiver on
127.0.0.1 that drip one byte at a time (greeting, EHLO answer, status line, headers), and a delivered.json
damaged in every way the audit found. Each outcome is asserted as a user sees it: the deadline error and exit
code 7, what delivered.json says was and was not sent, and what the next run sends. No assertion on a timer: each
drip, one byte every DRIP_EVERY_S (well inside the per-read timeout), ends after several times the 1 s limit in a
complete, successful answer, so a client without a wall-clock deadline sends (and says so) where one with it
gives up at the limit and sends nothing."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke

pytest.importorskip("aiosmtpd")
from test_deliver import Inbox, Receiver, _mail_args, _papers, _run, _smtp, _titles, certificate  # noqa: E402, F401

DRIP_EVERY_S = 0.2  # well inside the 1 s limit: a per-read timeout never fires
PAPERS = [("2403.00001v1", "Sparse attention"), ("2403.00002v1", "Dense retrieval"), ("2403.00003v1", "Graphs")]


class DripServer:
    """A TCP server on 127.0.0.1 running ``script(connection, server)`` for each client, in its own thread."""

    def __init__(self, script: Callable[[socket.socket, DripServer], None]) -> None:
        self.script = script
        self.requests: list[bytes] = []  # what clients sent before the drip began
        self.mails: list[bytes] = []  # messages an SMTP script took
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.script(conn, self)

    def drip(self, conn: socket.socket, data: bytes) -> None:
        """``data`` one byte at a time (until the client hangs up)."""
        for byte in data:
            if self.stop.is_set():
                raise OSError("stopped")
            conn.sendall(bytes([byte]))
            time.sleep(DRIP_EVERY_S)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536) or b"\r\n\r\n"
    head, _, body = data.partition(b"\r\n\r\n")
    fields = (line.partition(b":") for line in head.split(b"\r\n"))
    length = next((int(v) for k, _, v in fields if k.lower() == b"content-length"), 0)
    while len(body) < length:
        body += conn.recv(65536) or b"x" * length
    return body


def _smtp_session(conn: socket.socket, server: DripServer, *, ehlo: bytes = b"250 slow.example.org\r\n") -> None:
    """A minimal SMTP server after its greeting: takes the message (server.mails) and says so."""
    lines = conn.makefile("rb")
    while line := lines.readline():
        command = line[:4].upper()
        if command in (b"EHLO", b"HELO"):
            server.drip(conn, ehlo) if ehlo.startswith(b"250-") else conn.sendall(ehlo)
            ehlo = b"250 slow.example.org\r\n"
        elif command == b"DATA":
            conn.sendall(b"354 go on\r\n")
            body = b""
            while not body.endswith(b"\r\n.\r\n") and (chunk := lines.readline()):
                body += chunk
            server.mails.append(body)
            conn.sendall(b"250 queued\r\n")
        elif command == b"QUIT":
            conn.sendall(b"221 bye\r\n")
            return
        else:
            conn.sendall(b"250 ok\r\n")


def smtp_greeting_drip(conn: socket.socket, server: DripServer) -> None:
    server.drip(conn, b"220-slow.example.org\r\n220 ESMTP ready\r\n")  # 36 bytes: ~7 s
    _smtp_session(conn, server)


def smtp_ehlo_drip(conn: socket.socket, server: DripServer) -> None:
    conn.sendall(b"220 slow.example.org ESMTP\r\n")
    _smtp_session(conn, server, ehlo=b"250-slow.example.org\r\n250 SMTPUTF8\r\n")


def http_status_drip(conn: socket.socket, server: DripServer) -> None:
    server.requests.append(_read_request(conn))
    server.drip(conn, b"HTTP/1.1 200 OK\r\nContent")  # ~5 s
    conn.sendall(b"-Length: 2\r\n\r\nok")


def http_header_drip(conn: socket.socket, server: DripServer) -> None:
    server.requests.append(_read_request(conn))
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    server.drip(conn, b"X-Slow: aaaaaaaaaaaaaaaa\r\n")  # ~5 s
    conn.sendall(b"Content-Length: 2\r\n\r\nok")


def http_ok_then_body_drip(conn: socket.socket, server: DripServer) -> None:
    server.requests.append(_read_request(conn))
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n")
    server.drip(conn, b"o" * 100)  # 20 s of answer nobody needs: a 2xx status is the receiver's yes


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    _run(_papers(tmp_path / "in.jsonl", PAPERS), folder)
    (tmp_path / "work" / "config.toml").write_text("[delivery]\nsmtp_timeout_s = 1\nwebhook_timeout_s = 1\n")
    return folder


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = _smtp(inbox)
    yield inbox, controller.port
    controller.stop()


def _state(out: Path) -> dict[str, Any]:
    return json.loads((out / "delivered.json").read_text())


def _digest(out: Path, *extra: str, expect: int = 0):
    return invoke("digest", str(out), *extra, expect=expect)


# ---------------------------------------------------------------- deadlines


@pytest.mark.parametrize("script", [smtp_greeting_drip, smtp_ehlo_drip], ids=["greeting", "ehlo-answer"])
def test_a_dripping_smtp_server_is_given_up_at_the_deadline_and_the_webhook_still_goes(out: Path, script) -> None:
    slow, hook = DripServer(script), Receiver()
    try:
        result = _digest(out, *_mail_args(slow.port), "--webhook", hook.url, expect=7)
    finally:
        slow.close()
        hook.close()
    assert f"e-mail via 127.0.0.1:{slow.port}: gave up after 1 s (smtp_timeout_s)" in result.output
    assert "Traceback" not in result.output and "webhook 127.0.0.1" in result.output
    assert slow.mails == [] and sorted(_titles(hook.posts[0])) == sorted(t for _, t in PAPERS)
    papers = _state(out)["papers"]
    assert len(papers) == 3 and all(p["on"] == ["webhook"] for p in papers.values())  # sent there, not by e-mail


@pytest.mark.parametrize("script", [http_status_drip, http_header_drip], ids=["status-line", "headers"])
def test_a_dripping_webhook_is_given_up_at_the_deadline_and_only_it_is_retried(out: Path, smtp, script) -> None:
    inbox, port = smtp
    slow = DripServer(script)
    url = f"http://127.0.0.1:{slow.port}/services/T/B/secret-token"
    try:
        result = _digest(out, *_mail_args(port), "--webhook", url, expect=7)
    finally:
        slow.close()
    assert f"webhook 127.0.0.1:{slow.port}: gave up after 1 s (webhook_timeout_s)" in result.output
    assert "secret-token" not in result.output and len(slow.requests) == 1
    assert "e-mail to reader@example.org: sent 3 papers." in result.output and len(inbox.mails) == 1
    assert {tuple(p["on"]) for p in _state(out)["papers"].values()} == {("email",)}
    hook = Receiver()
    try:
        again = _digest(out, *_mail_args(port), "--webhook", hook.url)
    finally:
        hook.close()
    assert len(inbox.mails) == 1 and "e-mail to reader@example.org: nothing to send" in again.output
    assert sorted(_titles(hook.posts[0])) == sorted(t for _, t in PAPERS)


def test_a_webhook_that_says_200_then_drips_its_body_counts_as_sent(out: Path) -> None:
    slow = DripServer(http_ok_then_body_drip)
    url = f"http://127.0.0.1:{slow.port}/hook"
    try:
        result = _digest(out, "--webhook", url)
        again = _digest(out, "--webhook", url)
    finally:
        slow.close()
    assert f"webhook 127.0.0.1:{slow.port}: sent 3 papers." in result.output
    assert "nothing to send" in again.output and len(slow.requests) == 1


def _tls(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this test's own certificate
    return context


def test_a_webhook_dripping_over_tls_is_given_up_at_the_deadline(out: Path, certificate, monkeypatch) -> None:
    context = _tls(certificate, monkeypatch)

    def script(conn: socket.socket, server: DripServer) -> None:
        http_header_drip(context.wrap_socket(conn, server_side=True), server)

    slow = DripServer(script)
    try:
        result = _digest(out, "--webhook", f"https://127.0.0.1:{slow.port}/services/T/B/token", expect=7)
    finally:
        slow.close()
    assert f"webhook 127.0.0.1:{slow.port}: gave up after 1 s (webhook_timeout_s)" in result.output
    assert len(slow.requests) == 1 and _state(out)["papers"] == {}  # nothing recorded as sent


def test_an_smtp_server_dripping_after_starttls_is_given_up(out: Path, certificate, monkeypatch) -> None:
    context = _tls(certificate, monkeypatch)

    def script(conn: socket.socket, server: DripServer) -> None:
        conn.sendall(b"220 slow.example.org ESMTP\r\n")
        conn.recv(1024)
        conn.sendall(b"250-slow.example.org\r\n250 STARTTLS\r\n")
        conn.recv(1024)
        conn.sendall(b"220 go ahead\r\n")
        _smtp_session(context.wrap_socket(conn, server_side=True), server, ehlo=b"250-slow.example.org\r\n250 OK\r\n")

    slow = DripServer(script)
    try:
        result = _digest(out, *_mail_args(slow.port, starttls=True), expect=7)
    finally:
        slow.close()
    assert f"e-mail via 127.0.0.1:{slow.port}: gave up after 1 s (smtp_timeout_s)" in result.output
    assert slow.mails == [] and _state(out)["papers"] == {}


# ---------------------------------------------------------------- delivered.json


def _first_run(out: Path, hook: Receiver) -> dict[str, Any]:
    _digest(out, "--top", "2", "--webhook", hook.url)
    assert len(hook.posts) == 1
    return _state(out)


def _version_a_list(state: dict[str, Any]) -> None:
    first = sorted(state["papers"])[0]
    state["papers"][first]["version"] = [1]


def _papers_five(state: dict[str, Any]) -> None:
    state["papers"] = 5


def _sent_null(state: dict[str, Any]) -> None:
    state["digests"][0]["sent"] = None


def _sent_string(state: dict[str, Any]) -> None:
    state["digests"][0]["sent"] = "webhook email"


def _sent_empty_list(state: dict[str, Any]) -> None:
    state["digests"][0]["sent"] = []


@pytest.mark.parametrize(
    "damage", [_version_a_list, _papers_five, _sent_null, _sent_string, _sent_empty_list],
    ids=["version-a-list", "papers-5", "sent-null", "sent-string", "sent-empty-list"],
)  # fmt: skip
def test_a_damaged_state_is_set_aside_and_rebuilt_and_nothing_is_sent_twice(out: Path, damage) -> None:
    hook = Receiver()
    try:
        state = _first_run(out, hook)
        damage(state)
        broken = json.dumps(state)
        (out / "delivered.json").write_text(broken)
        result = _digest(out, "--top", "2", "--webhook", hook.url)
        later = [_digest(out, "--top", "2", "--webhook", hook.url) for _ in range(2)]
    finally:
        hook.close()
    assert "Traceback" not in result.output and "was not valid" in result.stderr and "set aside as" in result.stderr
    assert len(hook.posts) == 1, "a paper the damaged file still told of was sent again"
    aside = list(out.glob("delivered.json.broken-*"))
    assert len(aside) == 1 and aside[0].read_text() == broken  # the original kept for the reader to look at
    assert all("was not valid" not in run.stderr for run in later)  # the rebuilt file reads cleanly
    assert len(_state(out)["papers"]) == 2


@pytest.mark.parametrize("damage", [_sent_empty_list, _sent_string], ids=["sent-empty-list", "sent-string"])
def test_a_digest_recorded_but_never_sent_is_sent_once(out: Path, damage) -> None:
    """The audit's cases: ``sent: []`` made every rerun post again (3 posts in 3 runs); ``sent`` as a string
    said "already sent" for a digest never posted."""
    hook = Receiver()
    try:
        state = _first_run(out, hook)
        state["papers"] = {}
        damage(state)
        (out / "delivered.json").write_text(json.dumps(state))
        runs = [_digest(out, "--top", "2", "--webhook", hook.url) for _ in range(3)]
    finally:
        hook.close()
    assert len(hook.posts) == 2 and _titles(hook.posts[1]) == _titles(hook.posts[0])
    assert "sent 2 papers." in runs[0].output and all("nothing to send" in r.output for r in runs[1:])


def test_a_state_nested_100000_deep_is_set_aside_not_a_traceback(out: Path) -> None:
    hook = Receiver()
    deep = '{"format": "summarize-delivered", "version": 1, "papers": ' + "[" * 100_000 + "]" * 100_000 + "}"
    (out / "delivered.json").write_text(deep)
    try:
        runs = [_digest(out, "--webhook", hook.url) for _ in range(3)]
    finally:
        hook.close()
    assert "was not valid" in runs[0].stderr and "Traceback" not in runs[0].output
    assert len(hook.posts) == 1 and len(_state(out)["papers"]) == 3  # nothing to salvage: sent once, remembered


def test_a_state_that_is_not_json_is_set_aside(out: Path) -> None:
    (out / "delivered.json").write_bytes(b"\x00\xff not json {")
    result = _digest(out, "--dry-run")
    assert "was not valid" in result.stderr and (out / "delivered.json").read_bytes() == b"\x00\xff not json {"
    _digest(out, "--mark-delivered")
    assert len(list(out.glob("delivered.json.broken-*"))) == 1 and len(_state(out)["papers"]) == 3


def test_another_programs_file_is_refused_and_left_alone(out: Path) -> None:
    (out / "delivered.json").write_text('{"format": "something-else", "papers": 5}')
    result = _digest(out, "--webhook", "http://127.0.0.1:9/hook", expect=2)
    assert "not a summarize delivery state" in result.output
    assert (out / "delivered.json").read_text() == '{"format": "something-else", "papers": 5}'

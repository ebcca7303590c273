"""summarize digest against real local servers: aiosmtpd (plain, STARTTLS with a certificate made here, a login it
refuses) and an HTTP receiver for the webhook (one that answers 500). What a reader notices: one mail with a text
and an HTML part listing the top N, nothing sent twice, the next day's new paper delivered and the old one not, a
v2 delivered again, shards and merge keeping what was sent, a failure that says what the server answered."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE, invoke, read_jsonl
from test_page import CHROMIUM, _act  # the page driven in headless Chromium, as its own tests do

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402

USER, PASSWORD = "reader@example.org", "s3cret-pass-word"


# ---------------------------------------------------------------- servers


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message), and the logins it saw."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], email.message.EmailMessage]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _smtp(inbox: Inbox, **params: Any) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), **params)
    controller.start()
    return controller


def _authenticator(inbox: Inbox, accept: bool):
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else str(auth_data.login)
        inbox.logins.append(login)
        password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        return AuthResult(success=accept and login == USER and password == PASSWORD, handled=False)

    return check


@pytest.fixture
def smtp_tls(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    """STARTTLS required, then a login (the reader's), as a provider's submission port behaves."""
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this test's own certificate
    monkeypatch.setenv("SUMMARIZE_SMTP_USER", USER)
    monkeypatch.setenv("SUMMARIZE_SMTP_PASSWORD", PASSWORD)
    inbox = Inbox()
    controller = _smtp(
        inbox,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator(inbox, accept=True),
        auth_required=True,
    )
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def smtp_plain():
    inbox = Inbox()
    controller = _smtp(inbox)
    yield inbox, controller.port
    controller.stop()


class Receiver:
    """A webhook endpoint: records each POST, answers ``status`` with ``answer``."""

    def __init__(self, status: int = 200, answer: bytes = b"ok", *, silent: bool = False) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status, self.answer = status, answer
        self.released = threading.Event()  # a silent receiver answers only once released (at close)
        self.silent = silent
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.posts.append(
                    {"path": self.path, "type": self.headers.get("Content-Type"), "json": json.loads(body)}
                )
                if receiver.silent:
                    receiver.released.wait(60)
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/hook-token-xyz"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    receiver = Receiver()
    yield receiver
    receiver.close()


# ---------------------------------------------------------------- corpora


@pytest.fixture(scope="module")
def sample_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample listing summarised once (embedded engine); each test copies it."""
    from pipeline.run import run
    from pipeline.settings import Settings
    from pipeline.sources.files import read_inputs

    folder = tmp_path_factory.mktemp("sample")
    settings = Settings(out_dir=folder / "out", cache_dir=folder / "cache", workers=1, feed=False, html=False)
    report = run(read_inputs([str(SAMPLE)], None), settings)
    assert report.ok
    return folder / "out"


@pytest.fixture
def sample(sample_corpus: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(sample_corpus, out)
    return out


def _write_ranking(out: Path, ids: list[str]) -> list[str]:
    """A ranking.jsonl as the ranking stage writes it; returns the titles in that order."""
    records = {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}
    lines = [
        json.dumps(
            {"id": i, "title": records[i]["title"], "score": 1.0 - n / 100, "reasons": [f"close to library paper {n}"]}
        )
        for n, i in enumerate(ids)
    ]
    (out / "ranking.jsonl").write_text("\n".join(lines) + "\n")
    return [records[i]["title"] for i in ids]


def _papers(path: Path, papers: list[tuple[str, str]]) -> Path:
    """A JSONL input of arXiv papers: (id with version, title)."""
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": pid,
                    "title": title,
                    "abstract": f"Models fail at {title.lower()}. We propose a method for it. "
                    f"It improves accuracy by {n}.5 points on the benchmark.",
                }
            )
            + "\n"
            for n, (pid, title) in enumerate(papers, start=1)
        )
    )
    return path


def _run(inputs: Path, out: Path, *extra: str) -> None:
    invoke("run", str(inputs), "--out", str(out), "--workers", "1", *extra)


def _digest(out: Path, *extra: str, expect: int = 0):
    return invoke("digest", str(out), *extra, expect=expect)


def _mail_args(port: int, *, starttls: bool = False) -> list[str]:
    return [
        "--email-to", "reader@example.org", "--email-from", "digest@example.org",
        "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
        "--smtp-starttls" if starttls else "--no-smtp-starttls",
    ]  # fmt: skip


def _parts(message: email.message.EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def _titles(post: dict[str, Any]) -> list[str]:
    return [p["title"] for p in post["json"]["papers"]]


# ---------------------------------------------------------------- e-mail


def test_one_mail_over_starttls_lists_the_top_n_in_ranking_order_and_a_rerun_sends_nothing(
    sample: Path, smtp_tls
) -> None:
    inbox, port = smtp_tls
    ids = [r["id"] for r in read_jsonl(sample / "corpus.jsonl")]
    wanted = _write_ranking(sample, [ids[40], ids[3], ids[17], ids[60], ids[0]])
    result = _digest(sample, "--top", "3", *_mail_args(port, starttls=True))
    assert "e-mail to reader@example.org: sent 3 papers." in result.output
    assert len(inbox.mails) == 1 and inbox.logins == [USER]
    recipients, message = inbox.mails[0]
    assert recipients == ["reader@example.org"]
    assert message.get_content_type() == "multipart/alternative"
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    for part in parts.values():
        positions = [part.find(title.split(":")[0]) for title in wanted[:3]]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), positions
        assert wanted[3].split(":")[0] not in part  # only the top 3
        assert "close to library paper 0" in part  # the reason is shown
    assert all("Key result" in part for part in parts.values())
    assert re.fullmatch(r"3 papers for you — \d{4}-\d{2}-\d{2}", message["Subject"]), message["Subject"]
    md = (sample / "digest.md").read_text()
    assert all(t.split(":")[0] in md for t in wanted[:3]) and (sample / "digest.html").exists()

    again = _digest(sample, "--top", "3", *_mail_args(port, starttls=True))
    assert len(inbox.mails) == 1, "the same digest was mailed twice"
    assert "e-mail to reader@example.org: nothing to send" in again.output
    for path in sample.iterdir():  # the password is written nowhere
        if path.is_file():
            assert PASSWORD not in path.read_text(errors="replace"), path


def test_without_a_ranking_the_digest_keeps_the_sources_order(sample: Path, hook) -> None:
    records = read_jsonl(sample / "corpus.jsonl")
    by_rank = sorted(records, key=lambda r: r["source_meta"]["position"])  # the listing's trending order
    _digest(sample, "--top", "3", "--webhook", hook.url)
    assert _titles(hook.posts[0]) == [r["title"] for r in by_rank[:3]]


def test_the_published_page_is_linked_from_every_message(sample: Path, smtp_plain, hook) -> None:
    inbox, port = smtp_plain
    (sample.parent / "work" / "config.toml").write_text('site_url = "https://me.github.io/papers/"\n')
    _digest(sample, "--top", "2", *_mail_args(port), "--webhook", hook.url)
    parts = _parts(inbox.mails[0][1])
    assert "All papers: https://me.github.io/papers/" in parts["text/plain"]
    assert '<a href="https://me.github.io/papers/">All papers</a>' in parts["text/html"]
    assert "<https://me.github.io/papers/|All papers>" in hook.posts[0]["json"]["text"]


def test_a_refused_login_is_an_error_with_the_servers_answer_and_the_files_stay(
    sample: Path, certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setenv("SUMMARIZE_SMTP_USER", USER)
    monkeypatch.setenv("SUMMARIZE_SMTP_PASSWORD", PASSWORD)
    inbox = Inbox()
    controller = _smtp(
        inbox, tls_context=context, require_starttls=True, authenticator=_authenticator(inbox, accept=False),
        auth_required=True,
    )  # fmt: skip
    try:
        result = _digest(sample, "--top", "2", *_mail_args(controller.port, starttls=True), expect=7)
    finally:
        controller.stop()
    assert "login was refused: 535" in result.output and "Traceback" not in result.output
    assert PASSWORD not in result.output
    assert inbox.mails == [] and (sample / "digest.md").exists() and (sample / "digest.html").exists()
    state = json.loads((sample / "delivered.json").read_text())
    assert state["papers"] == {}, "a digest nobody received is not remembered as delivered"


def test_a_server_that_is_down_is_an_error_and_the_files_are_written(sample: Path) -> None:
    result = _digest(sample, *_mail_args(_free_port()), expect=7)
    assert "e-mail via 127.0.0.1" in result.output and "cannot deliver" in result.output
    assert "Traceback" not in result.output
    assert "## 1." in (sample / "digest.md").read_text()


def test_half_a_login_is_refused_before_connecting(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_SMTP_USER", USER)
    result = _digest(sample, *_mail_args(_free_port()), expect=7)
    assert "SUMMARIZE_SMTP_PASSWORD is not set" in result.output


def test_an_unverifiable_certificate_is_refused(sample: Path, certificate) -> None:
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = _smtp(inbox, tls_context=context, require_starttls=True)  # SSL_CERT_FILE not set: untrusted
    try:
        result = _digest(sample, *_mail_args(controller.port, starttls=True), expect=7)
    finally:
        controller.stop()
    assert "TLS failed" in result.output and "CERTIFICATE_VERIFY_FAILED" in result.output
    assert inbox.mails == []


def test_untrusted_titles_are_escaped_and_cannot_add_headers(tmp_path: Path, smtp_plain) -> None:
    inbox, port = smtp_plain
    out = tmp_path / "out"
    hostile = 'Attack <script>alert(1)</script> & "quotes" \r\nBcc: victim@example.org'
    _run(_papers(tmp_path / "in.jsonl", [("2403.00001v1", hostile), ("2403.00002v1", "A plain title")]), out)
    _digest(out, *_mail_args(port))
    recipients, message = inbox.mails[0]
    assert recipients == ["reader@example.org"] and message["Bcc"] is None
    page = _parts(message)["text/html"]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in (out / "digest.html").read_text()
    md = (out / "digest.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_dry_run_writes_the_digest_and_sends_and_remembers_nothing(sample: Path, smtp_plain, hook) -> None:
    inbox, port = smtp_plain
    result = _digest(sample, "--top", "4", *_mail_args(port), "--webhook", hook.url, "--dry-run")
    assert "dry run" in result.output and inbox.mails == [] and hook.posts == []
    assert (sample / "digest.md").read_text().count("\n## ") == 4
    assert not (sample / "delivered.json").exists()


# ---------------------------------------------------------------- webhook


def test_one_webhook_post_with_slack_text_discord_content_and_the_papers(sample: Path, hook) -> None:
    result = _digest(sample, "--top", "30", "--webhook", hook.url)
    assert len(hook.posts) == 1
    post = hook.posts[0]
    body = post["json"]
    assert post["type"] == "application/json"
    assert len(body["papers"]) == 30 and all(p["title"] and p["id"] for p in body["papers"])
    assert body["papers"][0]["title"].split(":")[0] in body["text"]
    assert 0 < len(body["content"]) <= 2000 and "more" in body["content"]  # 30 papers do not fit Discord's limit
    assert body["allowed_mentions"] == {"parse": []}
    assert "hook-token-xyz" not in result.output  # the webhook's secret path is never printed
    assert "hook-token-xyz" not in (sample / "delivered.json").read_text()
    _digest(sample, "--top", "30", "--webhook", hook.url)
    assert len(hook.posts) == 1, "the same digest was posted twice"


def test_a_webhook_answering_500_is_an_error_with_the_answer_and_a_rerun_delivers(sample: Path) -> None:
    failing = Receiver(status=500, answer=b"internal_error: channel is archived")
    try:
        result = _digest(sample, "--top", "2", "--webhook", failing.url, expect=7)
    finally:
        failing.close()
    assert "answered HTTP 500: internal_error: channel is archived" in result.output
    assert "Traceback" not in result.output and (sample / "digest.md").exists()
    working = Receiver()
    try:
        _digest(sample, "--top", "2", "--webhook", working.url)
        assert len(working.posts) == 1 and _titles(working.posts[0]) == _titles(failing.posts[0])
    finally:
        working.close()


def test_a_silent_webhook_is_given_up_after_its_timeout(sample: Path) -> None:
    silent = Receiver(silent=True)
    (sample.parent / "work" / "config.toml").write_text("[delivery]\nwebhook_timeout_s = 0.5\n")
    try:
        result = _digest(sample, "--top", "1", "--webhook", silent.url, expect=7)
    finally:
        silent.close()
    assert len(silent.posts) == 1 and "gave up after 0.5 s (webhook_timeout_s)" in result.output


def test_a_huge_error_answer_is_read_and_shown_only_in_part(sample: Path) -> None:
    flood = Receiver(status=502, answer=b"bad gateway " + b"x" * 5_000_000)
    try:
        result = _digest(sample, "--top", "1", "--webhook", flood.url, expect=7)
    finally:
        flood.close()
    error = next(line for line in result.output.splitlines() if line.startswith("error:"))
    assert "HTTP 502: bad gateway xxx" in error and len(error) < 700


def test_starttls_asked_of_a_server_without_it_is_an_error(sample: Path, smtp_plain) -> None:
    inbox, port = smtp_plain
    result = _digest(sample, *_mail_args(port, starttls=True), expect=7)
    assert "STARTTLS extension not supported by server" in result.output and inbox.mails == []


def test_a_webhook_url_from_the_environment(sample: Path, hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_WEBHOOK_URL", hook.url)
    _digest(sample, "--top", "1")
    assert len(hook.posts) == 1 and len(hook.posts[0]["json"]["papers"]) == 1


def test_plain_http_to_a_remote_webhook_is_refused(sample: Path) -> None:
    result = _digest(sample, "--webhook", "http://hooks.example.org/services/T/B/token", expect=7)
    assert "https only" in result.output and "token" not in result.output


# ---------------------------------------------------------------- seen before


def test_the_next_days_new_paper_is_delivered_and_the_old_one_is_not(tmp_path: Path, hook) -> None:
    out = tmp_path / "out"
    _run(
        _papers(tmp_path / "day1.jsonl", [("2403.00001v1", "Sparse attention"), ("2403.00002v1", "Dense retrieval")]),
        out,
    )
    _digest(out, "--webhook", hook.url)
    assert sorted(_titles(hook.posts[0])) == ["Dense retrieval", "Sparse attention"]
    day2 = [("2403.00001v1", "Sparse attention"), ("2403.00003v1", "Graph networks")]
    _run(_papers(tmp_path / "day2.jsonl", day2), out)
    result = _digest(out, "--webhook", hook.url)
    assert len(hook.posts) == 2 and _titles(hook.posts[1]) == ["Graph networks"]
    assert "Seen before" in (out / "digest.md").read_text() and "1 new paper of 3 candidates" in result.output
    _digest(out, "--webhook", hook.url)
    assert len(hook.posts) == 2  # a rerun the same day is a no-op


def test_a_new_arxiv_version_of_a_delivered_paper_is_delivered_again(tmp_path: Path, hook) -> None:
    out = tmp_path / "out"
    _run(
        _papers(tmp_path / "v1.jsonl", [("2403.00001v1", "Sparse attention"), ("2403.00002v1", "Dense retrieval")]), out
    )
    _digest(out, "--webhook", hook.url)
    _run(
        _papers(tmp_path / "v2.jsonl", [("2403.00001v2", "Sparse attention"), ("2403.00002v1", "Dense retrieval")]), out
    )
    _digest(out, "--webhook", hook.url)
    assert len(hook.posts) == 2
    assert [(p["id"], p["version"]) for p in hook.posts[1]["json"]["papers"]] == [("arxiv:2403.00001", 2)]


def test_shards_then_merge_keep_what_each_shard_delivered(tmp_path: Path, hook) -> None:
    day1 = _papers(tmp_path / "day1.jsonl", [(f"2403.0000{i}v1", f"Paper number {i}") for i in range(1, 7)])
    shards = [tmp_path / "s0", tmp_path / "s1"]
    for k, folder in enumerate(shards):
        _run(day1, folder, "--shard", f"{k}/2")
        _digest(folder, "--webhook", hook.url)
    sent = sorted(t for post in hook.posts for t in _titles(post))
    assert sent == [f"Paper number {i}" for i in range(1, 7)]
    merged = tmp_path / "merged"
    invoke("merge", *map(str, shards), "--out", str(merged))
    result = _digest(merged, "--webhook", hook.url)
    assert "nothing new of 6 candidates" in result.output and len(hook.posts) == 2
    day2 = _papers(tmp_path / "day2.jsonl", [(f"2403.0000{i}v1", f"Paper number {i}") for i in range(1, 8)])
    for k, folder in enumerate(shards):
        _run(day2, folder, "--shard", f"{k}/2")
    invoke("merge", *map(str, shards), "--out", str(merged))
    _digest(merged, "--webhook", hook.url)
    assert len(hook.posts) == 3 and _titles(hook.posts[2]) == ["Paper number 7"]


def test_the_state_is_bounded_and_never_read_through_a_link(tmp_path: Path, hook) -> None:
    out = tmp_path / "out"
    _run(_papers(tmp_path / "in.jsonl", [(f"2403.{i:05d}v1", f"Paper {i}") for i in range(1, 131)]), out)
    (tmp_path / "work" / "config.toml").write_text(
        "[summarize]\nworkers = 1\n\n[delivery]\ntop = 120\nremember = 100\n"
    )
    _digest(out, "--webhook", hook.url)
    assert len(hook.posts[0]["json"]["papers"]) == 120  # [delivery] top from config.toml
    state = json.loads((out / "delivered.json").read_text())
    assert len(state["papers"]) == 100
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    (out / "delivered.json").unlink()
    os.symlink(elsewhere, out / "delivered.json")
    result = _digest(out, "--webhook", hook.url, expect=2)
    assert "symbolic link" in result.output and elsewhere.read_text() == "{}" and len(hook.posts) == 1


def test_every_delivery_setting_is_checked(sample: Path) -> None:
    result = _digest(sample, "--email-to", "reader@example.org\r\nBcc: x@y.org", expect=2)
    assert "plain e-mail address" in result.output
    (sample.parent / "work" / "config.toml").write_text("[delivery]\nsmtp_port = 0\n")
    assert "smtp_port" in _digest(sample, expect=2).output


# ---------------------------------------------------------------- the page's feedback

# First load: vote on three rows (the third vote taken back, the fourth changed), then reload. After the reload:
# what the buttons show, and the file "Export feedback" hands to the browser (the Blob behind its download link).
VOTE_RELOAD_EXPORT = """
var rows = document.querySelectorAll("article.paper");
if (!sessionStorage.getItem("ids")) {
  rows[0].querySelector('[data-vote="more"]').click();
  rows[1].querySelector('[data-vote="less"]').click();
  rows[2].querySelector('[data-vote="more"]').click();
  rows[2].querySelector('[data-vote="more"]').click();
  rows[3].querySelector('[data-vote="less"]').click();
  rows[3].querySelector('[data-vote="more"]').click();
  var ids = [0, 1, 2, 3].map(function (k) { return rows[k].getAttribute("data-id"); });
  sessionStorage.setItem("ids", JSON.stringify(ids));
  location.reload();
} else {
  var ids = JSON.parse(sessionStorage.getItem("ids"));
  out.ids = ids;
  out.reloaded = performance.getEntriesByType("navigation")[0].type;
  out.pressed = ids.map(function (id) {
    var art = document.querySelector('article[data-id="' + CSS.escape(id) + '"]');
    return ["more", "less"].filter(function (v) {
      return art.querySelector('[data-vote="' + v + '"]').getAttribute("aria-pressed") === "true"; });
  });
  var button = document.getElementById("export-feedback");
  out.button = button.textContent;
  var Made = window.Blob, parts = null;
  window.Blob = function (content, options) { parts = content; return new Made(content, options); };
  button.click();
  var link = document.getElementById("feedback-file");
  out.download = link.getAttribute("download");
  out.blobLink = link.href.indexOf("blob:") === 0;
  out.file = parts.join("");
}
"""


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_votes_on_the_page_survive_a_reload_and_export_a_feedback_file(sample_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke("run", str(SAMPLE), "--out", str(out), "--workers", "1")
    seen = _act(out / "comparison.html", tmp_path, VOTE_RELOAD_EXPORT)
    assert seen["reloaded"] == "reload"
    assert seen["pressed"] == [["more"], ["less"], [], ["more"]]  # the 3rd taken back, the 4th changed its mind
    assert seen["button"] == "Export feedback (3)"
    assert seen["download"] == "summarize-feedback.json" and seen["blobLink"] is True
    exported = json.loads(seen["file"])
    assert exported["format"] == "summarize-feedback" and exported["version"] == 1
    titles = {r["id"]: r["title"] for r in read_jsonl(out / "corpus.jsonl")}
    abstracts = {r["id"]: r["abstract"] for r in read_jsonl(out / "corpus.jsonl")}
    ids = seen["ids"]
    got = {item["id"]: item for item in exported["items"]}
    assert set(got) == {ids[0], ids[1], ids[3]}
    assert [got[i]["vote"] for i in (ids[0], ids[1], ids[3])] == ["more", "less", "more"]
    for item in exported["items"]:
        assert set(item) == {"id", "title", "abstract", "vote", "at"} and item["title"] == titles[item["id"]]
        # the abstract travels with the vote (whitespace between sentences aside), so it ranks without the corpus
        assert item["abstract"].split() == abstracts[item["id"]].split()[: len(item["abstract"].split())]
        assert len(item["abstract"]) > 200
        assert item["at"].endswith("Z") and item["at"][:4].isdigit()
    (tmp_path / "feedback.json").write_text(seen["file"])
    from pipeline.sources.library import read_library  # the file --library reads

    library = read_library([str(tmp_path / "feedback.json")])
    assert library.problems == [] and all(e.abstract for e in library.entries)
    assert {(e.id, e.vote, e.format) for e in library.entries} == {
        (ids[0], "more", "feedback"), (ids[1], "less", "feedback"), (ids[3], "more", "feedback")
    }  # fmt: skip


# ---------------------------------------------------------------- the Action


def _deliver_step() -> str:
    import yaml

    flow = yaml.safe_load((Path(__file__).resolve().parent.parent / ".github/workflows/daily.yml").read_text())
    return next(s["run"] for s in flow["jobs"]["publish"]["steps"] if s.get("id") == "deliver")


def _action_env(tmp_path: Path, out: Path, **values: str) -> dict[str, str]:
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("SUMMARIZE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.update(GITHUB_OUTPUT=str(tmp_path / "gh-output"), GITHUB_STEP_SUMMARY=str(tmp_path / "gh-summary"))
    env.update({"OUT": str(out), "SUMMARIZE_SMTP_USER": "", "SUMMARIZE_SMTP_PASSWORD": "", "SUMMARIZE_WEBHOOK_URL": ""})
    env.update({"EMAIL_TO": "", "EMAIL_FROM": "", "SMTP_HOST": "", "SMTP_PORT": "", "TOP": ""})
    env.update(values)
    return env


def test_the_actions_deliver_step_mails_and_posts_once(sample: Path, tmp_path: Path, smtp_tls, hook) -> None:
    inbox, port = smtp_tls
    env = _action_env(
        tmp_path, sample, SUMMARIZE_SMTP_USER=USER, SUMMARIZE_SMTP_PASSWORD=PASSWORD, SUMMARIZE_WEBHOOK_URL=hook.url,
        EMAIL_TO="reader@example.org other@example.org", EMAIL_FROM="digest@example.org", SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(port), TOP="3", SSL_CERT_FILE=os.environ["SSL_CERT_FILE"],
    )  # fmt: skip
    for _ in range(2):  # the second run (a re-run of the job) sends nothing
        subprocess.run(["bash", "-e", "-c", _deliver_step()], env=env, cwd=tmp_path, check=True, timeout=120)
    assert len(inbox.mails) == 1 and inbox.mails[0][0] == ["reader@example.org", "other@example.org"]
    assert len(hook.posts) == 1 and len(hook.posts[0]["json"]["papers"]) == 3
    assert (tmp_path / "gh-output").read_text().splitlines() == ["status=0", "status=0"]


def test_the_actions_deliver_step_is_skipped_without_secrets(sample: Path, tmp_path: Path) -> None:
    env = _action_env(tmp_path, sample)
    done = subprocess.run(["bash", "-e", "-c", _deliver_step()], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "skipped" in done.stdout and not (sample / "digest.md").exists()


def test_the_actions_deliver_step_reports_a_failed_send(sample: Path, tmp_path: Path) -> None:
    failing = Receiver(status=403, answer=b"invalid_token")
    try:
        env = _action_env(tmp_path, sample, SUMMARIZE_WEBHOOK_URL=failing.url)
        done = subprocess.run(
            ["bash", "-e", "-c", _deliver_step()], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    finally:
        failing.close()
    assert done.returncode == 0  # the step records the status; a later step fails the job after the commit
    assert "HTTP 403: invalid_token" in done.stderr and "status=7" in (tmp_path / "gh-output").read_text()
    assert (sample / "digest.md").exists()


def _has_rank_command() -> bool:
    from pipeline.cli import cli

    return "rank" in cli.commands


def _ranked(*args: str) -> list[str]:
    return [json.loads(line)["id"] for line in invoke("rank", *args, "--json").stdout.splitlines() if line.strip()]


@pytest.mark.skipif(not _has_rank_command(), reason="summarize rank (issue 25) has not landed")
def test_feedback_fed_back_as_library_moves_the_ranking(sample: Path, tmp_path: Path) -> None:
    corpus = str(sample / "corpus.jsonl")
    titles = {r["id"]: r["title"] for r in read_jsonl(sample / "corpus.jsonl")}
    before = _ranked(corpus, "--keywords", "image generation")
    wanted, unwanted = before[-1], before[0]  # the reader wants more of the last, less of the first
    feedback = {
        "format": "summarize-feedback",
        "version": 1,
        "items": [
            {"id": wanted, "title": titles[wanted], "vote": "more", "at": "2026-03-12T08:00:00Z"},
            {"id": unwanted, "title": titles[unwanted], "vote": "less", "at": "2026-03-12T08:01:00Z"},
        ],
    }
    (tmp_path / "feedback.json").write_text(json.dumps(feedback))
    after = _ranked(corpus, "--keywords", "image generation", "--library", str(tmp_path / "feedback.json"))
    assert sorted(after) == sorted(before)
    assert after.index(wanted) < 5 < before.index(wanted), "a 'more like this' paper did not move up"
    assert after.index(unwanted) > len(after) // 2 > before.index(unwanted), "a 'less like this' paper did not go down"


def test_digest_has_help_and_the_shipped_config_reads() -> None:
    result = invoke("digest", "--help")
    assert "Send the best papers of OUT_DIR" in result.output and "--email-to" in result.output
    from pipeline.settings import load_settings

    shipped = (Path(__file__).resolve().parent.parent / "config.toml").read_text()

    example = shipped.split("# [delivery]", 1)[1].split("\n# [", 1)[0]  # the commented example, uncommented
    Path("config.toml").write_text("[summarize]\n\n[delivery]" + re.sub(r"(?m)^# (?=\w+ = )", "", example))
    delivery = load_settings(Path("config.toml"), environ={}).delivery
    assert delivery.email_to == ["me@example.org"] and delivery.smtp_port == 587 and delivery.top == 10


@pytest.mark.skipif(not _has_rank_command(), reason="summarize rank (issue 25) has not landed")
def test_run_with_the_feedback_as_library_then_digest_follows_the_ranking_with_reasons(tmp_path: Path, hook) -> None:
    out = tmp_path / "out"
    _run(SAMPLE, out)
    records = read_jsonl(out / "corpus.jsonl")
    liked = next(r for r in records if "Open Images" in r["title"])
    feedback = {"format": "summarize-feedback", "version": 1, "items": [
        {"id": liked["id"], "title": liked["title"], "vote": "more", "at": "2026-03-12T08:00:00.000Z"}]}  # fmt: skip
    (tmp_path / "feedback.json").write_text(json.dumps(feedback))
    _run(SAMPLE, out, "--library", str(tmp_path / "feedback.json"))
    ranked = [json.loads(line)["id"] for line in (out / "ranking.jsonl").read_text().splitlines()]
    _digest(out, "--top", "3", "--webhook", hook.url)
    papers = hook.posts[0]["json"]["papers"]
    assert [p["id"] for p in papers] == ranked[:3] and papers[0]["id"] == liked["id"]
    assert all(p["reasons"] for p in papers) and "ranked by your interests" in hook.posts[0]["json"]["text"]


# ---------------------------------------------------------------- exactly once (issue 33)


def _ranked_sample(out: Path, n: int = 10) -> list[dict[str, Any]]:
    """A ranking of the sample's first ``n`` records (realistic scores and reasons), best first."""
    records = read_jsonl(out / "corpus.jsonl")[:n]
    lines = [
        {"id": r["id"], "title": r["title"], "score": 95.0 - 5 * k,
         "reasons": [f"close to your library ({90 - k}%): “Library paper {k}”", f"keywords: topic {k} ({10 + k}%)"]}
        for k, r in enumerate(records)
    ]  # fmt: skip
    (out / "ranking.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return records


def _mail_titles(message: email.message.EmailMessage, records: list[dict[str, Any]]) -> list[str]:
    text = _parts(message)["text/plain"]
    return [r["title"] for r in records if f". {' '.join(r['title'].split())}" in text]


def test_top_5_then_3_then_8_sends_each_paper_once_on_each_channel(sample: Path, smtp_plain, hook) -> None:
    inbox, port = smtp_plain
    records = _ranked_sample(sample)
    titles = [r["title"] for r in records]
    channels = [*_mail_args(port), "--webhook", hook.url]
    first = _digest(sample, "--top", "5", *channels)
    assert "e-mail to reader@example.org: sent 5 papers." in first.output
    assert _titles(hook.posts[0]) == titles[:5] and _mail_titles(inbox.mails[0][1], records) == titles[:5]

    second = _digest(sample, "--top", "3", *channels)
    assert len(inbox.mails) == 1 and len(hook.posts) == 1, "papers already delivered were sent again"
    assert "nothing new of" in second.output and second.output.count("nothing to send") == 2

    third = _digest(sample, "--top", "8", *channels)
    assert len(inbox.mails) == 2 and len(hook.posts) == 2
    assert _titles(hook.posts[1]) == titles[5:8] and _mail_titles(inbox.mails[1][1], records) == titles[5:8]
    assert "webhook 127.0.0.1" in third.output and "sent 3 papers." in third.output
    state = json.loads((sample / "delivered.json").read_text())
    assert sorted(state["papers"]) == sorted(r["id"] for r in records[:8])
    assert all(p["on"] == ["email", "webhook"] for p in state["papers"].values())


def test_a_preview_marks_nothing_and_mark_delivered_does(sample: Path, hook) -> None:
    records = _ranked_sample(sample)
    preview = _digest(sample, "--top", "3")
    assert "preview (no channel" in preview.output and "nothing marked delivered" in preview.output
    assert not (sample / "delivered.json").exists() and "## 1." in (sample / "digest.md").read_text()
    _digest(sample, "--top", "3", "--webhook", hook.url)
    assert _titles(hook.posts[0]) == [r["title"] for r in records[:3]], "the preview used the papers up"

    marked = _digest(sample, "--top", "5", "--mark-delivered")
    assert "2 papers marked delivered" in marked.output
    _digest(sample, "--top", "5", "--webhook", hook.url)
    assert len(hook.posts) == 1, "papers marked delivered were sent"


def test_a_failed_channel_gets_only_what_it_missed_on_the_next_run(sample: Path, smtp_plain) -> None:
    inbox, port = smtp_plain
    records = _ranked_sample(sample)
    failing = Receiver(status=500, answer=b"channel is archived")
    try:
        result = _digest(sample, "--top", "3", *_mail_args(port), "--webhook", failing.url, expect=7)
    finally:
        failing.close()
    assert "e-mail to reader@example.org: sent 3 papers." in result.output
    assert "not sent (the error is below)" in result.output and "HTTP 500: channel is archived" in result.output
    state = json.loads((sample / "delivered.json").read_text())
    assert {p["on"] == ["email"] for p in state["papers"].values()} == {True}  # what went where, and what did not
    working = Receiver()
    try:
        again = _digest(sample, "--top", "3", *_mail_args(port), "--webhook", working.url)
    finally:
        working.close()
    assert len(inbox.mails) == 1 and "e-mail to reader@example.org: nothing to send" in again.output
    assert _titles(working.posts[0]) == [r["title"] for r in records[:3]]


def test_dry_run_warns_about_a_missing_sender(sample: Path) -> None:
    result = _digest(sample, "--email-to", "reader@example.org", "--smtp-host", "127.0.0.1", "--dry-run")
    assert "warning: e-mail: no sender; set --email-from" in result.stderr
    assert "e-mail to reader@example.org: dry run, would send 10 papers; nothing sent." in result.stdout
    assert "dry run: nothing sent, nothing marked delivered." in result.stdout


def test_a_new_version_says_so_in_every_message(tmp_path: Path, hook) -> None:
    out = tmp_path / "out"
    _run(_papers(tmp_path / "v1.jsonl", [("2403.00001v1", "Sparse attention")]), out)
    _digest(out, "--webhook", hook.url)
    _run(_papers(tmp_path / "v2.jsonl", [("2403.00001v2", "Sparse attention")]), out)
    _digest(out, "--webhook", hook.url)
    assert "new version v2; v1 was sent before" in hook.posts[1]["json"]["text"]
    assert hook.posts[1]["json"]["papers"][0]["earlier_version"] == 1
    assert "**New version:** v2 (v1 was sent before)" in (out / "digest.md").read_text()


# ---------------------------------------------------------------- a digest a reader wants (issue 33)


def _schema_has_scores() -> bool:
    from pipeline.schema import Record

    return "scores" in Record.model_fields


def _reader_sample(out: Path) -> list[dict[str, Any]]:
    """The sample with a ranking whose reasons carry shares and a title-only closest paper: the first record
    linked (with a headline score once the schema has scores), the second without a link (the sample's papers have
    no arXiv id), the third with its key result the same sentence as its tldr."""
    records = read_jsonl(out / "corpus.jsonl")
    first, second, third = records[0], records[1], records[2]
    first["url"] = "https://arxiv.org/abs/2403.01234"
    if _schema_has_scores():
        first["scores"] = [
            {"value": "3.2x", "number": 3.2, "metric": "speedup", "dataset": "", "own": False, "sentence": 0},
            {"value": "85.3%", "number": 85.3, "metric": "top-1 accuracy", "dataset": "ImageNet", "own": True,
             "sentence": 0},
        ]
    third["results"] = [third["tldr"]]
    (out / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    ranking = [
        {"id": first["id"], "title": first["title"], "score": 87.4,
         "reasons": ["close to your library (90%): “A title-only entry”; “Neural Radiance Fields”",
                     "keywords: nerf (10%)", "shares authors with your library: A. Author (1%)"],
         "closest": [{"title": "A title-only entry", "has_abstract": False},
                     {"title": "Neural Radiance Fields", "has_abstract": True}]},
        {"id": second["id"], "title": second["title"], "score": 61.0,
         "reasons": ["little like your library (100%): “A title-only entry”"],
         "closest": [{"title": "A title-only entry", "has_abstract": False}]},
        {"id": third["id"], "title": third["title"], "score": 40.0, "reasons": ["keywords: diffusion (100%)"]},
    ]  # fmt: skip
    (out / "ranking.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ranking))
    return [first, second, third]


def test_the_digest_as_received_carries_link_score_and_one_line_why(sample: Path, smtp_plain, hook) -> None:
    inbox, port = smtp_plain
    (sample.parent / "work" / "config.toml").write_text('site_url = "https://me.github.io/papers/"\n')
    first, second, third = _reader_sample(sample)
    _digest(sample, "--top", "3", *_mail_args(port), "--webhook", hook.url)
    message = inbox.mails[0][1]
    assert message["Subject"].startswith("3 papers for you — ")
    text, page = (_parts(message)[k].replace("\r\n", "\n") for k in ("text/plain", "text/html"))
    body = hook.posts[0]["json"]
    why = "Why: close to your library: “Neural Radiance Fields”; keywords: nerf"
    link = "https://arxiv.org/abs/2403.01234"
    assert f"1. {' '.join(first['title'].split())} · 87/100" in text and f"paper: {link}" in text
    assert why in text and why.replace("Why:", "<b>Why:</b>") in page and why in body["text"].replace("_", "")
    for received in (text, page, body["text"], body["content"]):
        assert "%)" not in received and "A title-only entry" not in received  # no shares, no title-only paper
    assert f'<a href="{link}">' in page and '<span class="score">87/100</span>' in page
    assert f"<{link}|" in body["text"] and "· 87/100" in body["text"] and "· 87/100" in body["content"]
    if _schema_has_scores():
        headline = "85.3% top-1 accuracy on ImageNet"  # the first score that is the paper's own
        assert f"Headline score: {headline}" in text and headline in page and headline in body["text"]
        assert body["papers"][0]["headline"] == headline
    assert body["papers"][0]["why"] == why.removeprefix("Why: ")
    assert "Why: little like your library\n" in text  # the title-only entry dropped, the reason kept
    for received in (text, body["text"]):
        unlinked = next(line for line in received.splitlines() if line.startswith("No link yet for: "))
        assert " ".join(second["title"].split()) in unlinked and first["title"] not in unlinked
        assert "summarize run --resolve finds their arXiv links" in unlinked
    assert text.count(" ".join(third["tldr"].split())) == 1  # its key result is its tldr: said once
    assert "All papers: https://me.github.io/papers/" in text and "https://me.github.io/papers/" in body["content"]


def test_the_headline_score_is_the_papers_own_first_score() -> None:
    from pipeline.deliver.digest import headline

    scores = [
        {"value": "+4.5", "metric": "BLEU", "dataset": "WMT14", "own": False},
        {"value": "85.3%", "metric": "top-1 accuracy", "dataset": "ImageNet", "own": True},
        {"value": "12.1", "metric": "FID", "dataset": "COCO", "own": True},
    ]
    assert headline({"scores": scores}) == "85.3% top-1 accuracy on ImageNet"
    assert headline({"scores": [{"value": "3.2x", "metric": "speedup", "dataset": "", "own": True}]}) == "3.2x speedup"
    for none in ({}, {"scores": None}, {"scores": "85%"}, {"scores": [{"value": "1", "own": "yes"}, 5]}):
        assert headline(none) == ""  # a schema-2 record, or one whose scores are not the schema's


def test_a_state_written_by_the_previous_version_still_counts(tmp_path: Path, hook) -> None:
    out = tmp_path / "out"
    _run(_papers(tmp_path / "in.jsonl", [("2403.00001v1", "Sparse attention"), ("2403.00002v1", "Dense retrieval")]),
         out)  # fmt: skip
    at = "2026-12-07T08:00:00+00:00"
    old = {"format": "summarize-delivered", "version": 1,
           "papers": {"arxiv:2403.00001": {"version": 1, "at": at, "digest": "d1"}},
           "digests": [{"id": "d1", "basis": "b1", "at": at, "papers": [["arxiv:2403.00001", 1]],
                        "sent": {"webhook": {"at": at, "host": "hooks.slack.com"}}}]}  # fmt: skip
    (out / "delivered.json").write_text(json.dumps(old))
    result = _digest(out, "--webhook", hook.url)
    assert _titles(hook.posts[0]) == ["Dense retrieval"] and "was not valid" not in result.output
    state = json.loads((out / "delivered.json").read_text())
    assert state["version"] == 2 and state["papers"]["arxiv:2403.00001"]["on"] is None  # every channel, as v1 meant
    assert state["papers"]["arxiv:2403.00002"]["on"] == ["webhook"]

"""A local LLM server of one's own: the mode each kind answers in the schema with is chosen by asking it.

Ollama (its ``GET /api/version``) gets ``json_schema`` (``response_format`` with the record's schema), every other
OpenAI-compatible server ``tools`` (a forced call of the Summary tool); a server that answers outside the schema
fails the paper with a message that says which mode to set.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from conftest import read_jsonl, run_llm
from fake_openai import FakeOpenAI, Reply, faithful
from local_server import LocalServer

PAPER = {
    "title": "Sparse Mixers",
    "abstract": "We propose Sparse Mixers. Sparse Mixers reach 91.2% accuracy on ImageNet.",
}


@pytest.fixture(autouse=True)
def auto_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "auto")
    monkeypatch.setenv("SUMMARIZE_TIMEOUT_S", "5")
    monkeypatch.setenv("SUMMARIZE_REQUEST_RETRIES", "0")
    monkeypatch.setenv("SUMMARIZE_MAX_RETRIES", "1")


@pytest.fixture
def papers(tmp_path: Path) -> Path:
    path = tmp_path / "papers.jsonl"
    path.write_text(json.dumps(PAPER) + "\n")
    return path


def content_reply(request: dict[str, Any], content: str) -> Reply:
    """A chat completion whose answer is the message's text (JSON modes), not a tool call."""
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "fake"),
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }
    return Reply(body=json.dumps(body))


class FakeOllama(FakeOpenAI):
    """Ollama's shape: ``/api/version`` beside ``/v1``; answers a ``json_schema`` request in the message's text and
    ignores ``tool_choice`` (a plain-text answer)."""

    def __init__(self) -> None:
        def script(request: dict[str, Any], n: int) -> Reply:
            if (request.get("response_format") or {}).get("type") == "json_schema":
                return content_reply(request, json.dumps(faithful(request)))
            return content_reply(request, "Sparse Mixers is a paper about mixers.")

        super().__init__(script)
        self.probes = 0
        handler = self.server.RequestHandlerClass
        fake = self

        class WithVersion(handler):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802
                fake.probes += 1
                if self.path != "/api/version":
                    self.send_error(404)
                    return
                data = b'{"version":"0.12.3"}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server.RequestHandlerClass = WithVersion


def test_ollama_is_asked_for_the_schema_in_response_format(papers: Path, out: Path) -> None:
    with FakeOllama() as server:
        report = run_llm(server, papers, out)
    assert server.probes == 1 and report["new"] == 1 and report["failed"] == 0
    request = server.requests[0]
    assert "tools" not in request and request["response_format"]["type"] == "json_schema"
    schema = request["response_format"]["json_schema"]["schema"]
    assert sorted(schema["required"]) == ["method", "problem", "results", "tldr"]
    record = read_jsonl(out / "corpus.jsonl")[0]
    assert record["tldr"] == "We propose Sparse Mixers." and record["provenance"]["attempts"] == 1


def test_other_servers_are_asked_for_a_tool_call(papers: Path, out: Path) -> None:
    with FakeOpenAI() as server:  # no /api/version: llama-cpp-python, llama-server, vLLM answer 404 there
        report = run_llm(server, papers, out)
    assert report["new"] == 1
    assert server.requests[0]["tool_choice"]["function"]["name"] == "Summary"
    assert "response_format" not in server.requests[0]


def test_a_server_that_does_not_call_the_tool_says_which_mode_to_set(
    papers: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "tools")  # forced: Ollama then answers in plain text
    with FakeOllama() as server:
        report = run_llm(server, papers, out, expect=1)
    assert server.probes == 0 and report["failed"] == 1
    error = read_jsonl(out / "failures.jsonl")[0]["error"]
    assert "without calling the Summary tool" in error and "SUMMARIZE_MODE=json_schema" in error


def test_a_server_that_ignores_response_format_says_so(
    papers: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "json_schema")
    with FakeOpenAI(lambda request, n: content_reply(request, "Sure! Here is a summary: mixers.")) as server:
        run_llm(server, papers, out, expect=1)
    assert len(server.requests) == 2  # the answer and one re-ask
    error = read_jsonl(out / "failures.jsonl")[0]["error"]
    assert "not JSON in the schema" in error and 'mode = "tools"' in error


def _answering(status: int, body: bytes, encoding: str | None = None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(status)
            if encoding:
                self.send_header("content-encoding", encoding)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.mark.parametrize(
    ("status", "body", "encoding", "mode"),
    [
        (200, b'{"version":"0.5.1"}', None, "json_schema"),
        (404, b'{"detail":"Not Found"}', None, "tools"),
        (200, b"<html>a proxy's page</html>", None, "tools"),
        (200, b'{"version": 5}', None, "tools"),
        (200, b'{"version":"0.5.1","pad":"' + b"x" * 10_000 + b'"}', None, "tools"),  # over the probe's cap
        (200, b"\x1f\x8b compressed", "gzip", "tools"),  # never decompressed
    ],
    ids=["ollama", "404", "html", "odd-version", "too-long", "gzip"],
)
def test_the_probe_reads_only_a_small_plain_version_answer(status: int, body: bytes, encoding, mode: str) -> None:
    from pipeline.engines.clients import server_mode

    with LocalServer(_answering(status, body, encoding)) as server:
        assert server_mode(server.url + "/v1") == mode


def test_the_probe_of_a_closed_port_is_tools() -> None:
    from pipeline.engines.clients import server_mode

    with LocalServer(_answering(200, b"{}")) as server:
        url = server.url
    assert server_mode(url + "/v1", timeout_s=1.0) == "tools"


def test_the_extractive_prompt_is_sent_and_keyed_apart(
    papers: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small model's prompt (copy the abstract's sentences) is chosen by name; a record made with it is not a
    cache hit for the default prompt, and the other way round."""
    with FakeOpenAI() as server:
        run_llm(server, papers, out)
        monkeypatch.setenv("SUMMARIZE_PROMPT", "extractive")
        second = run_llm(server, papers, out)
        third = run_llm(server, papers, out)
    systems = [next(m["content"] for m in r["messages"] if m["role"] == "system") for r in server.requests]
    assert len(systems) == 2 and "copying its sentences" in systems[1] and "copying" not in systems[0]
    assert "Sparse Mixers reach 91.2% accuracy" in server.requests[1]["messages"][-1]["content"]
    assert second["new"] + second.get("updated", 0) == 1 and third["cached"] == 1


def test_an_unknown_prompt_names_the_ones_there_are(papers: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import invoke

    monkeypatch.setenv("SUMMARIZE_PROMPT", "tiny")
    result = invoke("run", str(papers), "--out", str(out), "--model", "openai/fake", "--api-base",
                    "http://127.0.0.1:9/v1", expect=None)  # fmt: skip
    assert result.exit_code != 0 and "prompt 'tiny' is not one of prompts/: extractive, summarize" in result.output
    monkeypatch.delenv("SUMMARIZE_PROMPT")
    # a name, never a path: the flag's value is refused before any file is looked at
    result = invoke("run", str(papers), "--out", str(out), "--model", "openai/fake", "--prompt", "../../etc/passwd",
                    expect=2)  # fmt: skip
    assert "prompt" in result.output and "[a-z0-9]" in result.output and not (out / "corpus.jsonl").exists()


def test_eval_of_a_model_says_why_it_failed_papers(tmp_path: Path) -> None:
    """A model that loses should say why: the eval names the commonest refusal reasons with their counts."""
    from conftest import REPO, invoke

    data = tmp_path / "tldr.jsonl"
    data.write_text("".join((REPO / "data" / "scitldr" / "dev.jsonl").read_text().splitlines(True)[:3]))
    no_result = lambda request, n: Reply(arguments={**faithful(request), "results": []})  # noqa: E731
    with FakeOpenAI(no_result) as server:
        args = ("eval", "--tldr", str(data), "--model", "openai/fake", "--api-base", server.base_url)
        scored = json.loads(invoke(*args, "--json").stdout)
        human = invoke(*args).stdout
    assert scored["papers"] == 3 and scored["failed"] == 3
    assert scored["failure_reasons"] == [{"reason": "results: give at least one result claim", "papers": 3}]
    assert "3 failed: results: give at least one result claim" in human
    with FakeOpenAI() as server:  # a faithful model fails nothing
        scored = json.loads(invoke("eval", "--tldr", str(data), "--model", "openai/fake", "--api-base",
                                   server.base_url, "--json").stdout)  # fmt: skip
    assert scored["failed"] == 0 and scored["failure_reasons"] == [] and scored["rouge1"] > 0

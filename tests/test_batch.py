"""``--batch``: submit, poll, resume and collect against a local stand-in of the Files and Batch APIs (real HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke, numbered_papers, read_jsonl, run_llm
from fake_batch import FakeBatchAPI
from fake_openai import Reply, faithful, title_of

pytest.importorskip("litellm")


@pytest.fixture(autouse=True)
def llm_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "tools")
    monkeypatch.setenv("SUMMARIZE_BATCH_POLL_S", "0.05")
    monkeypatch.setenv("SUMMARIZE_TIMEOUT_S", "5")


def _papers(tmp_path: Path, n: int) -> Path:
    return numbered_papers(tmp_path / "papers.jsonl", n)


def _run(server: FakeBatchAPI, papers: Path, out: Path, *extra: str, expect: int = 0) -> dict:
    return run_llm(server, papers, out, "--batch", *extra, expect=expect, model="openai/gpt-4o-mini")


def test_batch_collects_every_answer_at_half_price_and_reasks_a_refused_one_directly(tmp_path: Path, out: Path) -> None:
    def script(request: dict, n: int) -> Reply:
        if title_of(request) == "Paper 2" and n == 1:  # the batch answer invents a number: refused
            return Reply(arguments=faithful(request) | {"results": ["M2 improves accuracy by 97.5 points."]})
        return Reply()

    papers = _papers(tmp_path, 6)
    with FakeBatchAPI(script, polls_to_finish=3) as server:
        report = _run(server, papers, out)
    assert (report["new"], report["failed"]) == (6, 0)
    assert len(server.files) == 2 and len(server.batches) == 1  # one input file, one output file, one batch
    assert len(server.batch_lines) == 6 and server.polls == 3
    assert [title_of(r) for r in server.requests[6:]] == ["Paper 2"]  # only the refused one asked directly
    line = server.batch_lines[0]
    assert line["url"] == "/v1/chat/completions" and line["body"]["model"] == "gpt-4o-mini"
    assert line["body"]["tool_choice"]["function"]["name"] == "Summary"
    records = {r["title"]: r for r in read_jsonl(out / "corpus.jsonl")}
    assert records["Paper 2"]["results"] == ["M2 improves accuracy by 2.5 points."]
    # gpt-4o-mini: USD 0.15 / 0.60 per million tokens; a batch answer costs half, the direct re-ask full price.
    full = (120 * 0.15 + 80 * 0.60) / 1e6
    assert records["Paper 0"]["provenance"]["cost_usd"] == pytest.approx(full / 2)
    assert records["Paper 2"]["provenance"]["cost_usd"] == pytest.approx(full)
    assert report["cost_usd"] == pytest.approx(6 * full / 2 + full, abs=1e-6)  # the refused batch answer was paid
    assert report["executor"]["reasked"] == 1 and not (out / "batch.json").exists()


def test_a_run_killed_while_polling_resumes_the_same_batch(tmp_path: Path, out: Path, monkeypatch) -> None:
    papers = _papers(tmp_path, 4)
    with FakeBatchAPI(polls_to_finish=10**6) as server:  # never finishes during the first run
        monkeypatch.setenv("SUMMARIZE_BATCH_MAX_WAIT_S", "0.3")  # stands in for the process being killed
        first = _run(server, papers, out, expect=1)
        state = json.loads((out / "batch.json").read_text())
        assert first["new"] == 0 and first["failed"] == 4 and state["batch_id"] == "batch_1"
        assert len(server.batches) == 1
        server.polls_to_finish = 0  # the provider finishes the batch while nothing runs
        monkeypatch.setenv("SUMMARIZE_BATCH_MAX_WAIT_S", "60")
        second = _run(server, papers, out)
    assert (second["new"], second["failed"]) == (4, 0)
    assert len(server.batches) == 1 and len(server.batch_lines) == 4  # the same batch, never paid twice
    assert second["executor"]["resumed"] == "batch_1" and not (out / "batch.json").exists()
    assert len(read_jsonl(out / "corpus.jsonl")) == 4


def test_dry_run_batch_estimates_both_prices_and_sends_nothing(tmp_path: Path, out: Path) -> None:
    with FakeBatchAPI() as server:
        report = _run(server, _papers(tmp_path, 5), out, "--dry-run")
    assert not server.files and not server.requests
    assert report["estimated_batch_cost_usd"] == pytest.approx(report["estimated_cost_usd"] / 2)
    assert report["estimated_cost_usd"] > 0


def test_batch_for_a_provider_without_a_batch_api_is_refused_before_anything_is_sent(tmp_path: Path, out: Path) -> None:
    result = invoke(
        "run", str(_papers(tmp_path, 2)), "--out", str(out), "--model", "ollama/llama3.1", "--batch", expect=2
    )
    assert "batch API does not cover the provider 'ollama'" in result.output

"""``--executor ray``: a real local Ray (2 CPUs) started the way a user starts it, against the local executor."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import invoke, numbered_papers, read_jsonl, run_llm
from fake_openai import FakeOpenAI, Reply, faithful, title_of

from bench.generate import write_papers

pytest.importorskip("ray", reason='Ray is an optional extra: pip install -e ".[ray]"')

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ray-home")


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch: pytest.MonkeyPatch, ray_home: Path) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # a local Ray, never a cluster the machine happens to know
    monkeypatch.setenv("SUMMARIZE_RAY_WORKERS", "2")
    # One HOME for the module, as for a user: Ray keeps its cluster token in ~/.ray and remembers it per process.
    monkeypatch.setenv("HOME", str(ray_home))


def _records(folder: Path) -> list[dict]:
    records = read_jsonl(folder / "corpus.jsonl")
    for record in records:
        record["provenance"].pop("created_at")
    return records


def test_thousand_papers_on_ray_equal_the_local_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    papers = write_papers(tmp_path / "papers.jsonl", 1000)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    invoke("run", str(papers), "--out", str(local))
    monkeypatch.setenv("SUMMARIZE_CACHE_DIR", str(tmp_path / "ray-cache"))  # nothing cached: all 1,000 go to Ray
    report = json.loads(invoke("run", str(papers), "--out", str(on_ray), "--executor", "ray", "--json").stdout)
    assert (report["total"], report["new"], report["cached"], report["failed"]) == (1000, 1000, 0, 0)
    assert _records(on_ray) == _records(local)
    assert (on_ray / "comparison.md").read_text() == (local / "comparison.md").read_text()
    # The driver cached every result as it came back: a second run sends nothing to the cluster.
    again = json.loads(invoke("run", str(papers), "--out", str(on_ray), "--executor", "ray", "--json").stdout)
    assert (again["new"], again["cached"]) == (0, 1000)


def test_llm_workers_on_ray_report_a_refused_paper_and_keep_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")  # workers inherit the driver's environment
    monkeypatch.setenv("SUMMARIZE_MODE", "tools")
    monkeypatch.setenv("SUMMARIZE_MAX_RETRIES", "1")
    papers = numbered_papers(tmp_path / "papers.jsonl", 12)

    def script(request: dict, n: int) -> Reply:
        if title_of(request) == "Paper 3":  # a number the abstract does not state: refused on every ask
            bad = faithful(request) | {"results": ["M3 improves accuracy by 99.9 points."]}
            return Reply(arguments=bad)
        return Reply(arguments=faithful(request))

    out = tmp_path / "out"
    with FakeOpenAI(script) as server:
        report = run_llm(server, papers, out, "--executor", "ray", expect=1)
    assert (report["new"], report["failed"]) == (11, 1)
    assert report["input_tokens"] == 13 * 120  # 11 answers + the refused paper's two asks, all counted
    failure = json.loads((out / "failures.jsonl").read_text())
    assert failure["title"] == "Paper 3" and failure["attempts"] == 2 and "99.9" in failure["error"]
    assert {r["title"] for r in read_jsonl(out / "corpus.jsonl")} == {f"Paper {i}" for i in range(12)} - {"Paper 3"}


def test_without_ray_installed_the_error_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError, as on a machine without the extra
    papers = write_papers(tmp_path / "papers.jsonl", 3)
    result = invoke("run", str(papers), "--out", str(tmp_path / "out"), "--executor", "ray", expect=2)
    assert 'pip install -e ".[ray]"' in result.output
    assert not (tmp_path / "out" / "corpus.jsonl").exists()

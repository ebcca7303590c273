"""The Action's steps with the new sources, as a forker sets them: SUMMARIZE_SOURCE=biorxiv or feed (with
SUMMARIZE_FEEDS), and ZOTERO_USER_ID + ZOTERO_API_KEY ranking the merged digest by the reader's Zotero library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO, read_jsonl
from fake_apis import details_page, fixture_bytes, preprint, zotero_item
from fake_sources import FakeSources

WORKFLOW = REPO / ".github" / "workflows" / "daily.yml"
BIN = Path(sys.executable).parent


def _step(job: str, step_id: str) -> str:
    flow = yaml.safe_load(WORKFLOW.read_text())
    return next(s["run"] for s in flow["jobs"][job]["steps"] if s.get("id") == step_id)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "INPUT_DATE": "2026-03-12",
        "INPUT_MODEL": "",
        "INPUT_PATH": "",
        "OPENAI_API_KEY": "",
        "ANTHROPIC_API_KEY": "",
        "GEMINI_API_KEY": "",
        "CATEGORY": "",
        "VENUE": "",
        "SUMMARIZE_FEEDS": "",
        "SUMMARIZE_WORKERS": "1",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "outputs"),
        **extra,
    }


def _summarise(tmp_path: Path, out: str, **extra: str) -> None:
    env = _env(tmp_path, OUT_DIR=str(tmp_path / out), **extra)
    subprocess.run(
        ["bash", "-e", "-c", _step("summarize", "summarise")], env=env, cwd=tmp_path, check=True, timeout=300
    )


def test_the_summarise_step_reads_biorxiv_with_its_category(tmp_path: Path) -> None:
    items = [preprint(1), preprint(2, category="cell biology")]

    def handler(path: str, query: dict, n: int):
        chosen = [i for i in items if i["category"].replace(" ", "_") in query.get("category", ["x"])]
        return 200, {}, details_page(chosen, 0, len(chosen)), 0.0

    with FakeSources(handler) as server:
        _summarise(tmp_path, "shard", INPUT_SOURCE="biorxiv", CATEGORY="cell_biology", SUMMARIZE_BIORXIV_API=server.url)
    assert server.log[0][0] == "/details/biorxiv/2026-03-12/2026-03-12/0/json"
    assert [r["title"] for r in read_jsonl(tmp_path / "shard" / "corpus.jsonl")] == ["Preprint number 2"]
    assert "status=0" in (tmp_path / "outputs").read_text()


def test_the_summarise_step_reads_the_feeds_variable(tmp_path: Path) -> None:
    with FakeSources(lambda p, q, n: (200, {}, fixture_bytes("feed-rss1.rdf"), 0.0)) as server:
        _summarise(tmp_path, "shard", INPUT_SOURCE="feed", SUMMARIZE_FEEDS=f"{server.url}/a.rdf")
    (record,) = read_jsonl(tmp_path / "shard" / "corpus.jsonl")
    assert record["id"] == "doi:10.5556/s41559-026-02001-x"


def test_the_merge_step_ranks_by_the_zotero_library(tmp_path: Path) -> None:
    library = [zotero_item(i, title=f"Preprint number {i} and cortex", abstractNote="Cells respond.") for i in (1, 2)]

    def zotero(path: str, query: dict, n: int):
        if path != "/users/4711/items":
            return 404, {}, "Not found", 0.0
        return 200, {"total-results": "2", "last-modified-version": "9"}, json.dumps(library), 0.0

    items = [preprint(n) for n in range(1, 4)]
    with FakeSources(lambda p, q, n: (200, {}, details_page(items, 0, 3), 0.0)) as biorxiv:
        _summarise(tmp_path, "shards/shard-0", INPUT_SOURCE="biorxiv", SUMMARIZE_BIORXIV_API=biorxiv.url)
    with FakeSources(zotero) as server:
        env = _env(
            tmp_path,
            OUT_DIR="digest",
            DATA_BRANCH="",
            ZOTERO_USER_ID="4711",
            ZOTERO_API_KEY="zk-secret-value-123456",
            SUMMARIZE_ZOTERO_API=server.url,
            SUMMARIZE_CACHE_DIR=str(tmp_path / "cache"),
        )
        subprocess.run(["bash", "-e", "-c", _step("publish", "merge")], env=env, cwd=tmp_path, check=True, timeout=300)
    ranking = read_jsonl(tmp_path / "digest" / "ranking.jsonl")
    assert len(ranking) == 3 and server.log[0][0] == "/users/4711/items"
    assert "zk-secret" not in (tmp_path / "digest" / "run.json").read_text()

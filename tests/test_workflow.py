"""The scheduled GitHub Action: lint-clean, schema-valid, pinned, and its summarise step really runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SAMPLE, read_jsonl

WORKFLOW = REPO / ".github" / "workflows" / "daily.yml"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    assert path, f"{name} is not installed (it comes with the dev extra)"
    return str(path)


def test_actionlint_passes() -> None:
    result = subprocess.run([_tool("actionlint"), str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_matches_the_github_schema() -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_is_least_privilege_pinned_and_never_overlaps() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow[True]  # YAML 1.1 reads the key "on" as true
    assert "schedule" in triggers and {"date", "source", "model"} <= set(triggers["workflow_dispatch"]["inputs"])
    assert flow["permissions"] == {"contents": "read"}
    assert flow["concurrency"]["cancel-in-progress"] is False
    uses = re.findall(r"uses:\s*(\S+)", WORKFLOW.read_text())
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def _summarise_step() -> str:
    flow = yaml.safe_load(WORKFLOW.read_text())
    steps = flow["jobs"]["summarize"]["steps"]
    return next(s["run"] for s in steps if s.get("id") == "summarise")


@pytest.mark.parametrize("model", ["", "openai/gpt-4o-mini"])
def test_the_summarise_step_runs_on_the_sample_listing(tmp_path: Path, model: str) -> None:
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "OUT_DIR": str(tmp_path / "digest"),
        "DATA_BRANCH": "",
        "INPUT_DATE": "2026-03-12",
        "INPUT_SOURCE": "listing",
        "INPUT_MODEL": model,
        "INPUT_PATH": str(SAMPLE),
        "OPENAI_API_KEY": "",
        "ANTHROPIC_API_KEY": "",
        "GEMINI_API_KEY": "",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
    }
    subprocess.run(["bash", "-e", "-c", _summarise_step()], env=env, cwd=tmp_path, check=True, timeout=300)
    assert len(read_jsonl(tmp_path / "digest" / "corpus.jsonl")) == 69
    text = summary.read_text()
    assert "Daily digest for 2026-03-12" in text and "| 69 | 69 | 0 | 0 | 0 |" in text
    assert ("embedded engine was used instead of openai/gpt-4o-mini" in text) == bool(model)
    assert "status=0" in outputs.read_text()


def _step(job: str, step_id: str) -> str:
    flow = yaml.safe_load(WORKFLOW.read_text())
    return next(s["run"] for s in flow["jobs"][job]["steps"] if s.get("id") == step_id)


def _commit_step() -> str:
    return _step("publish", "publish")


def test_n_shard_jobs_then_one_merge_give_the_whole_digest(tmp_path: Path) -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    assert flow["jobs"]["summarize"]["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert "matrix.shard" in flow["jobs"]["summarize"]["steps"][3]["with"]["key"]  # each shard its own cache
    plan_out = tmp_path / "plan"
    subprocess.run(
        ["bash", "-e", "-c", _step("plan", "plan")],
        env={**os.environ, "SHARDS": "3", "GITHUB_OUTPUT": str(plan_out)},
        check=True,
    )
    assert plan_out.read_text().splitlines() == ["shards=[0,1,2]", "count=3"]
    base = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "INPUT_DATE": "2026-03-12",
        "INPUT_SOURCE": "listing",
        "INPUT_MODEL": "",
        "INPUT_PATH": str(SAMPLE),
        "OPENAI_API_KEY": "",
        "ANTHROPIC_API_KEY": "",
        "GEMINI_API_KEY": "",
        "SHARDS": "3",
    }
    (tmp_path / "shards").mkdir()
    for shard in range(3):
        env = {
            **base,
            "SHARD": str(shard),
            "OUT_DIR": str(tmp_path / "shards" / f"shard-{shard}"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / f"summary-{shard}.md"),
            "GITHUB_OUTPUT": str(tmp_path / f"out-{shard}"),
        }
        subprocess.run(["bash", "-e", "-c", _summarise_step()], env=env, cwd=tmp_path, check=True, timeout=300)
    sizes = [len(read_jsonl(tmp_path / "shards" / f"shard-{k}" / "corpus.jsonl")) for k in range(3)]
    assert sum(sizes) == 69 and all(sizes)
    env = {
        **base,
        "OUT_DIR": "digest",
        "DATA_BRANCH": "",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "merge-out"),
    }
    subprocess.run(["bash", "-e", "-c", _step("publish", "merge")], env=env, cwd=tmp_path, check=True, timeout=300)
    assert len(read_jsonl(tmp_path / "digest" / "corpus.jsonl")) == 69
    assert "status=0" in (tmp_path / "merge-out").read_text()
    assert "| 69 | 69 | 0 | 0 | 0 |" in (tmp_path / "summary.md").read_text()


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_the_commit_step_pushes_the_digest_and_survives_a_race(tmp_path: Path) -> None:
    origin, work, other = tmp_path / "origin.git", tmp_path / "work", tmp_path / "other"
    _git("init", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    for clone in (work, other):
        _git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
        _git("config", "user.email", "t@example.com", cwd=clone)
        _git("config", "user.name", "t", cwd=clone)
    (work / "README").write_text("x\n")
    _git("add", "README", cwd=work)
    _git("commit", "-qm", "init", cwd=work)
    _git("push", "-q", "origin", "HEAD:main", cwd=work)
    _git("pull", "-q", "origin", "main", cwd=other)
    (work / "digest").mkdir()
    (work / "digest" / "corpus.jsonl").write_text('{"id": "a"}\n')
    (work / "digest" / ".summarize.lock").write_text("")
    # someone else pushes first: the step's first push is rejected, it rebases and retries
    (other / "NOTES").write_text("meanwhile\n")
    _git("add", "NOTES", cwd=other)
    _git("commit", "-qm", "meanwhile", cwd=other)
    _git("push", "-q", "origin", "HEAD:main", cwd=other)
    env = {
        **os.environ,
        "OUT": "digest",
        "PAGES": "false",
        "DATA_BRANCH": "",
        "GITHUB_REF_NAME": "main",
        "GITHUB_RUN_ID": "42",
        "GITHUB_OUTPUT": str(tmp_path / "outputs"),
    }
    subprocess.run(
        ["bash", "-e", "-c", _commit_step().replace("sleep $((attempt * 5))", "true")],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    log = _git("log", "--format=%s", "main", cwd=origin)
    assert log.splitlines()[0].startswith("digest: ") and "meanwhile" in log
    files = _git("ls-tree", "-r", "--name-only", "main", cwd=origin).split()
    assert "digest/corpus.jsonl" in files and "digest/.summarize.lock" not in files

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

"""Smoke test: the benchmark suite runs end to end (`--quick`), prints its results and leaves the tracked
BENCHMARKS.md alone unless asked to --write. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO

from bench.__main__ import render_markdown


def test_bench_quick_reports_and_leaves_the_tracked_benchmarks_alone(tmp_path: Path) -> None:
    tracked = REPO / "BENCHMARKS.md"
    before = tracked.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tracked.read_bytes() == before  # only --write replaces it
    results = json.loads(result.stdout)
    text = render_markdown(results)
    for heading in ("## Targets", "## Embedded engine", "## LLM path concurrency", "## Corpus merge"):
        assert heading in text
    assert "| cold | 2,000 |" in text and "| cached | 2,000 |" in text
    assert "`python -m bench --quick`" in text  # the report names the command that measured it

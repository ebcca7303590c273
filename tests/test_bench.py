"""Smoke test: the benchmark suite runs end to end (`--quick`) and writes its report. No timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_bench_quick_writes_a_report(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(report)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=600,
    )
    text = report.read_text()
    for heading in ("## Targets", "## Embedded engine", "## LLM path concurrency", "## Corpus merge"):
        assert heading in text
    assert "| cold | 2,000 |" in text and "| cached | 2,000 |" in text

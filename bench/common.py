"""What every benchmark shares: the installed CLI, and running one command in a fresh child process that reports
its wall time and peak memory (`bench.child`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.generate import REPO

BIN = Path(sys.executable).parent
SUMMARIZE = str(BIN / "summarize") if (BIN / "summarize").exists() else None


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.child", *cmd],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return json.loads(out.stdout)

"""Run one command and report its wall time, CPU time and peak memory: ``python -m bench.child CMD...``.

Each measurement runs in a fresh child of this process, so RUSAGE_CHILDREN is exactly that command's peak.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

if __name__ == "__main__":
    started = time.perf_counter()
    code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
    wall = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime  # what the command itself spent, whatever else the machine was doing
    print(json.dumps({"returncode": code, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": used.ru_maxrss / 1024}))

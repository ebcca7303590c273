"""The ranking benchmark: ``summarize rank``'s ranker on N papers of a day against an L-paper library, in
process (the library read and vectorised each time, as a run does), best of a few repeats, and the process's
peak memory. Real abstracts: the vendored ranking dev papers (data/ranking), repeated with new ids past 2,933.

    python -m bench.rank [--papers 1000] [--library 5000]     # one measurement, JSON on stdout
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from itertools import cycle, islice

from bench.generate import REPO

PAPERS = REPO / "data" / "ranking" / "papers.jsonl"


def _papers(n: int, offset: int) -> list[dict]:
    """``n`` papers from the dev set, cycled from ``offset`` (a library and a day that do not share ids)."""
    with PAPERS.open(encoding="utf-8") as fh:
        pool = [json.loads(line) for line in fh if line.strip()]
    start = offset % len(pool)
    rows = islice(cycle(pool[start:] + pool[:start]), n)
    return [{**p, "id": f"{p['id']}#{i}"} for i, p in enumerate(rows)]


def measure(n_papers: int, n_library: int, repeats: int = 3) -> dict:
    from pipeline.rank import Profile, rank_papers

    day = _papers(n_papers, 0)
    library = _papers(n_library, n_papers)
    times, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        ranked = rank_papers(day, Profile(positives=library, keywords={"neural network": 1.0}, authors=["A. Smith"]))
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    assert len(ranked) == n_papers and all(r.reasons for r in ranked)
    return {"papers": n_papers, "library": n_library, "seconds": min(times), "cpu_s": min(cpu), "repeats": repeats}


def ranking(sizes: list[tuple[int, int]]) -> list[dict]:
    """Each size in a fresh process: its time (in process) and that process's peak RSS."""
    rows = []
    for n_papers, n_library in sizes:
        command = [sys.executable, "-m", "bench.rank", "--papers", str(n_papers), "--library", str(n_library)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
        rows.append(json.loads(done.stdout))
    return rows


def render(rows: list[dict]) -> list[str]:
    lines = [
        "",
        "## Ranking",
        "",
        "`summarize rank`'s embedded ranker in process: the day's papers and the library vectorised (global idf),",
        "the profile, every paper's score, its two closest library papers and its reasons; best of 3. Peak RSS is",
        "the whole process (Python, numpy, the papers). Target: 1,000 papers against a 5,000-paper library well",
        "under a second.",
        "",
        "| papers | library | seconds | CPU seconds | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['papers']:,} | {r['library']:,} | {r['seconds']:.3f} | {r['cpu_s']:.3f} "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--library", type=int, default=5000)
    args = parser.parse_args()
    result = measure(args.papers, args.library)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Leaderboard build time (issue 32): ``python -m bench.leaderboard [--records 100000] [--layout single]``.

A corpus of N generated records, 60 % of them with one to four scores (schema v3's ``scores``), on benchmarks
drawn from a long-tailed pool (a few popular ones, hundreds reported once or twice), each benchmark's dataset and
metric written the ways papers write them ("ImageNet-1K", "ImageNet 1k"; "top-1 acc.", "Top-1 Accuracy"), each
score's sentence holding its value. Timed: `pipeline.leaderboard.board.leaderboards` in process (read every
record of either layout, line up the names, rank, resolve each entry's sentence), best of 3; and the whole
``summarize leaderboard OUT --json`` in a fresh process (start-up and printing included) with its peak memory.
Target: the build at 100,000 records in 2 s or less.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from bench.common import SUMMARIZE, run_child
from bench.generate import _sentences

# (ways papers write the dataset), (ways they write the metric), lower is better
POPULAR = [
    (("ImageNet-1K", "ImageNet-1k", "ImageNet 1k"), ("top-1 accuracy", "top-1 acc.", "Top-1 Accuracy"), False),
    (("ImageNet 256x256", "ImageNet 256×256"), ("FID", "Frechet Inception Distance (FID)"), True),
    (("COCO", "MS-COCO"), ("mAP", "AP"), False),
    (("ADE20K", "ADE-20K"), ("mIoU", "mean IoU"), False),
    (("MMLU", "the MMLU benchmark"), ("accuracy", "acc."), False),
    (("LibriSpeech test-clean",), ("WER", "word error rate"), True),
    (("WikiText-103",), ("perplexity", "PPL"), True),
    (("GSM8K",), ("accuracy",), False),
    (("HumanEval",), ("pass@1", "Pass@1"), False),
    (("SWE-bench Verified",), ("resolve rate",), False),
]
TAIL = 400  # benchmarks named "Bench-k", most reported by one or two papers
# Shares as in the hand-labelled abstracts (data/scores, train + dev, 315 abstracts): 47 % state a score, 2.55
# scores each; 86 % own, 56 % absolute, 26 % name a dataset. "dense": every score names one, most are absolute.
SHARES = {
    "labelled": {"scored": 0.47, "counts": [1, 1, 2, 2, 3, 3, 4, 5], "own": 0.86, "absolute": 0.56, "dataset": 0.26},
    "dense": {"scored": 0.6, "counts": [1, 1, 2, 3, 4], "own": 0.85, "absolute": 0.8, "dataset": 1.0},
}


def _benchmark(rng: random.Random) -> tuple[str, str, bool]:
    if rng.random() < 0.5:
        datasets, metrics, lower = rng.choice(POPULAR)
        return rng.choice(datasets), rng.choice(metrics), lower
    k = int(rng.paretovariate(1.2)) % TAIL
    lower = k % 5 == 0
    return f"Bench-{k}", "error" if lower else "score", lower


def scored_record(i: int, rng: random.Random, pool: list[str], shares: str = "labelled", prefix: str = "s") -> dict:
    """One schema-shaped record, scores in the ``shares`` given, each stated in its own sentence of the abstract."""
    share = SHARES[shares]
    sentences = rng.sample(pool, 4)
    scores = []
    for _ in range(rng.choice(share["counts"]) if rng.random() < share["scored"] else 0):
        dataset, metric, lower = _benchmark(rng)
        dataset = dataset if rng.random() < share["dataset"] else ""
        number = round(rng.uniform(1, 30) if lower else rng.uniform(40, 99), 1)
        value = f"{number}%" if not lower and rng.random() < 0.7 else f"{number}"
        statement = f"Our method reaches {value} {metric}" + (f" on {dataset}." if dataset else ".")
        sentences.insert(rng.randint(0, len(sentences)), statement)
        own = rng.random() < share["own"]
        scores.append(
            {
                "value": value,
                "number": number,
                "unit": "%" if value.endswith("%") else "",
                "metric": metric,
                "dataset": dataset,
                "task": "",
                "subject": "ours" if own else "a baseline",
                "own": own,
                "kind": "absolute" if rng.random() < share["absolute"] else "delta",
                "relative_to": "",
                "sentence": statement,
            }
        )
    abstract = " ".join(sentences)
    if scores:  # each score's sentence as the engines number them
        from pipeline.extractive.text import split_sentences

        split = split_sentences(abstract)
        for item in scores:
            item["sentence"] = next((k for k, text in enumerate(split) if item["sentence"] in text), -1)
    from pipeline.schema import SCHEMA_VERSION

    return {
        "schema_version": SCHEMA_VERSION,
        "id": f"{prefix}{i:08d}",
        "title": f"Paper {i}",
        "authors": [],
        "abstract": abstract,
        "url": f"https://arxiv.org/abs/2501.{i % 100000:05d}",
        "published": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "source": "bench",
        "source_meta": {},
        "tldr": sentences[0],
        "problem": sentences[1],
        "method": sentences[2],
        "results": [sentences[3]],
        "links": [],
        "tasks": [],
        "datasets": sorted({s["dataset"] for s in scores}),
        "metrics": sorted({s["metric"] for s in scores}),
        "scores": scores,
        "evidence": {"tldr": [0], "problem": [1], "method": [2], "results": [[3]]},
        "provenance": {"engine": "embedded", "model": "bench", "prompt_hash": "0", "created_at": "2026-01-01"},
    }


def write_scored(folder: Path, n: int, layout: str = "single", shares: str = "labelled", seed: int = 5) -> Path:
    """``n`` records in ``folder`` as corpus.jsonl, or (``layout="partitioned"``) as corpus/2025-MM.jsonl with
    their ids files, sorted by id as the tool writes them."""
    rng = random.Random(seed)
    pool = _sentences()
    folder.mkdir(parents=True, exist_ok=True)
    if layout == "single":
        with (folder / "corpus.jsonl").open("w", encoding="utf-8") as fh:
            for i in range(n):
                fh.write(json.dumps(scored_record(i, rng, pool, shares), separators=(",", ":")) + "\n")
        return folder
    where = folder / "corpus"
    where.mkdir()
    per = -(-n // 12)
    for month in range(12):
        name = f"2025-{month + 1:02d}"
        with (where / f"{name}.jsonl").open("w") as fh, (where / f"{name}.ids").open("w") as ids:
            for i in range(month * per, min(n, (month + 1) * per)):
                record = scored_record(i, rng, pool, shares)
                fh.write(json.dumps(record, separators=(",", ":")) + "\n")
                ids.write(f"{record['id']}\t{name}-01\n")
    return folder


def measure(n: int, layout: str, shares: str = "labelled", repeats: int = 3) -> dict:
    from pipeline.leaderboard.board import leaderboards
    from pipeline.leaderboard.names import Names

    with tempfile.TemporaryDirectory(prefix="summarize-board-") as tmp:
        folder = write_scored(Path(tmp) / "out", n, layout, shares)
        times, cpu = [], []
        for _ in range(repeats):
            started, started_cpu = time.perf_counter(), time.process_time()
            boards, records = leaderboards(folder, Names.default())
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        assert records == n, records
        cli = [SUMMARIZE] if SUMMARIZE else [sys.executable, "-m", "pipeline"]
        whole = run_child([*cli, "leaderboard", str(folder), "--json"])
        assert whole["returncode"] == 0, whole
        mb = sum(p.stat().st_size for p in folder.rglob("*.jsonl")) / 2**20
    return {
        "records": n,
        "layout": layout,
        "shares": shares,
        "corpus_mb": mb,
        "boards": len(boards),
        "entries": sum(len(b.entries) for b in boards),
        "build_s": min(times),
        "build_cpu_s": min(cpu),
        "command_s": whole["wall_s"],
        "command_rss_mb": whole["peak_rss_mb"],
    }


def leaderboard(sizes: list[int]) -> list[dict]:
    """Each size in both layouts with the labelled data's shares, and the largest dense (every score ranked)."""
    rows = [measure(n, layout) for n in sizes for layout in ("single", "partitioned")]
    return rows + [measure(sizes[-1], "single", "dense")]


def render(rows: list[dict]) -> list[str]:
    lines = [
        "",
        "## Leaderboards",
        "",
        "`summarize leaderboard`'s boards over a generated corpus: ten popular benchmarks written several ways and",
        "a long tail; *labelled*: scores in the shares of the hand-labelled abstracts (47 % of records state one,",
        "2.55 each, 86 % own, 56 % absolute, 26 % name a dataset), *dense*: 60 % of records with 1-4 scores, every",
        "one naming its dataset. Every record read, names lined up, each paper's best own score ranked, each",
        "entry's sentence resolved; best of 3 in process. *Command*: the whole `summarize leaderboard OUT --json`",
        "in a fresh process. Target: the build at 100,000 records ≤ 2 s.",
        "",
        "| records | layout | scores | corpus | boards | entries | build | build CPU | command | its peak RSS | |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = "" if r["records"] < 100_000 else "met" if r["build_s"] <= 2 else "missed"
        lines.append(
            f"| {r['records']:,} | {r['layout']} | {r['shares']} | {r['corpus_mb']:.0f} MB | {r['boards']:,} "
            f"| {r['entries']:,} | {r['build_s']:.2f} s | {r['build_cpu_s']:.2f} s | {r['command_s']:.2f} s "
            f"| {r['command_rss_mb']:.0f} MB | {met} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.leaderboard")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--layout", choices=["single", "partitioned"], default="single")
    parser.add_argument("--shares", choices=sorted(SHARES), default="labelled")
    args = parser.parse_args()
    print(json.dumps(measure(args.records, args.layout, args.shares)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

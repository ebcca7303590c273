"""Synthetic but realistic inputs for the benchmarks: abstracts built from the sample listing's sentences."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from pipeline.schema import SCHEMA_VERSION
from pipeline.sources.files import read_inputs
from pipeline.extractive.text import split_sentences

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "hf-papers-listing-2026-03-12.txt"


def _sentences() -> list[str]:
    out: list[str] = []
    for paper in read_inputs([str(SAMPLE)]):
        out += split_sentences(getattr(paper, "abstract", ""))
    return out


def write_papers(path: Path, n: int, seed: int = 7) -> Path:
    """``n`` distinct papers (JSONL) whose abstracts are 6–10 sentences drawn from the sample listing."""
    rng = random.Random(seed)
    pool = _sentences()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            k = rng.randint(6, 10)
            abstract = " ".join(rng.sample(pool, k))
            fh.write(json.dumps({"id": f"bench-{i:07d}", "title": f"Benchmark paper {i}", "abstract": abstract}) + "\n")
    return path


def write_corpus(path: Path, n: int, prefix: str = "c", created: Callable[[int], str] | None = None) -> Path:
    """A sorted corpus of ``n`` schema-valid records, written directly (no engine), about 1.2 KB each;
    ``created(i)``: the day record ``i`` was summarised (default 2026-01-01)."""
    rng = random.Random(11)
    pool = _sentences()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            abstract = " ".join(rng.sample(pool, 5))
            record = {
                "schema_version": SCHEMA_VERSION,
                "id": f"{prefix}{i:08d}",
                "title": f"Paper {i}",
                "authors": [],
                "abstract": abstract,
                "url": None,
                "published": None,
                "source": "bench",
                "source_meta": {},
                "tldr": pool[i % len(pool)],
                "problem": pool[(i + 1) % len(pool)],
                "method": pool[(i + 2) % len(pool)],
                "results": [pool[(i + 3) % len(pool)]],
                "links": [],
                "tasks": [],
                "datasets": [],
                "metrics": [],
                "evidence": {"tldr": [0], "problem": [1], "method": [2], "results": [[3]]},
                "provenance": {
                    "engine": "embedded",
                    "model": "bench",
                    "prompt_hash": "0",
                    "created_at": created(i) if created else "2026-01-01",
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cost_usd": 0.0,
                    "attempts": 1,
                    "truncated": False,
                    "notes": [],
                },
            }
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")
    return path

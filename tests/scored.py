"""Corpora with scores for the leaderboard tests: real records the pipeline wrote, given ``scores`` as the record
schema (v3) defines them, each number taken from a sentence of the record's own abstract."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.extractive.text import split_sentences

PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")


def score(value: str, metric: str, dataset: str, *, sentence: int = 0, own: bool = True, kind: str = "absolute",
          subject: str = "ours", unit: str | None = None, number: float | None = None) -> dict[str, Any]:
    found = re.search(r"[-+]?\d+(?:\.\d+)?", value)
    assert found, value
    return {
        "value": value,
        "number": float(found.group()) if number is None else number,
        "unit": unit if unit is not None else ("%" if value.endswith("%") else "x" if value.endswith("x") else ""),
        "metric": metric,
        "dataset": dataset,
        "task": "",
        "subject": subject,
        "own": own,
        "kind": kind,
        "relative_to": "",
        "sentence": sentence,
    }


def percent_sentences(record: dict[str, Any]) -> list[tuple[int, str]]:
    """(sentence index, "85.3%") for each sentence of the abstract that states a percentage."""
    out = []
    for k, sentence in enumerate(split_sentences(record["abstract"])):
        found = PERCENT.search(sentence)
        if found:
            out.append((k, found.group(1) + "%"))
    return out


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    """A corpus file as this tool writes it: sorted by id, compact JSON, no seal (readers check every line)."""
    rows = sorted(records, key=lambda r: r["id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n" for r in rows))
    (path.parent / ".corpus.sealed").unlink(missing_ok=True)
    return path

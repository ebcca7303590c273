"""Scoring sentence roles against CSAbstruct-format labels: micro/macro F1 and per-role P/R/F1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.roles import ROLES


@dataclass
class Abstract:
    sentences: list[str]
    labels: list[str]


def load_labelled(path: Path) -> list[Abstract]:
    """A CSAbstruct-format JSONL file: ``sentences`` and ``labels`` of equal length on every line."""
    out: list[Abstract] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            sentences, labels = obj["sentences"], obj["labels"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a labelled abstract ({exc})", path=str(path), line=number) from exc
        if len(sentences) != len(labels):
            raise InputError("sentences and labels differ in length", path=str(path), line=number)
        unknown = sorted(set(labels) - set(ROLES))
        if unknown:
            raise InputError(f"unknown role(s) {', '.join(unknown)}", path=str(path), line=number)
        out.append(Abstract(list(sentences), list(labels)))
    return out


def score(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Micro and macro F1 over the five roles, with precision, recall, F1 and support per role."""
    per_role: dict[str, dict[str, float]] = {}
    f1s = []
    for role in ROLES:
        tp = sum(1 for g, p in zip(gold, predicted) if g == role and p == role)
        fp = sum(1 for g, p in zip(gold, predicted) if g != role and p == role)
        fn = sum(1 for g, p in zip(gold, predicted) if g == role and p != role)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_role[role] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
        f1s.append(f1)
    correct = sum(1 for g, p in zip(gold, predicted) if g == p)
    # One gold and one predicted label per sentence: micro-F1 equals accuracy.
    micro = correct / len(gold) if gold else 0.0
    return {"micro_f1": round(micro, 4), "macro_f1": round(sum(f1s) / len(f1s), 4), "per_role": per_role}


def evaluate(path: Path, predict: Callable[[list[str]], list[str]]) -> dict[str, Any]:
    """Score ``predict`` (sentences → roles, one abstract at a time) on a labelled file."""
    data = load_labelled(path)
    gold: list[str] = []
    predicted: list[str] = []
    started = time.perf_counter()
    for abstract in data:
        predicted += predict(abstract.sentences)
        gold += abstract.labels
    seconds = time.perf_counter() - started
    result = score(gold, predicted)
    result.update(
        abstracts=len(data),
        sentences=len(gold),
        seconds=round(seconds, 3),
        sentences_per_s=round(len(gold) / seconds, 1) if seconds > 0 else None,
    )
    return result

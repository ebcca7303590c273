"""An engine's tldr on a SciTLDR file: mean ROUGE-1/2/L, each paper's best target."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.evaluate.data import load_tldr
from pipeline.evaluate.engine import failure_reason, tally


def rouge_best(prediction: str, targets: Sequence[str], scorer: Any) -> dict[str, float]:
    """ROUGE-1/2/L F1 of a prediction, each the best over the targets (as SciTLDR scores multi-target)."""
    scores = [scorer.score(target, prediction) for target in targets]
    return {name: max(s[name].fmeasure for s in scores) for name in ("rouge1", "rouge2", "rougeL")}


def evaluate_tldr(path: Path, summarize: Callable[[str, str], Any], *, limit: int | None = None) -> dict[str, Any]:
    """Mean ROUGE-1/2/L (F1 ×100, stemming, best target per paper) of the engine's tldr on a SciTLDR file."""
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:  # pragma: no cover - rouge-score is a dev dependency
        raise InputError("summarize eval --tldr needs rouge-score: pip install -e '.[dev]'") from exc
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    data = load_tldr(path)[:limit]
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    words = failures = 0
    reasons: list[str] = []
    started = time.perf_counter()
    for paper in data:
        try:
            tldr = summarize(paper.title, " ".join(paper.sentences)).summary.tldr
        except Exception as exc:  # a failed paper scores 0 (counted)
            failures += 1
            reasons.append(failure_reason(exc))
            continue
        words += len(tldr.split())
        for name, value in rouge_best(tldr, paper.targets, scorer).items():
            totals[name] += value
    n = len(data) or 1
    return {
        "papers": len(data),
        "failed": failures,
        "failure_reasons": tally(reasons),
        **{name: round(100 * value / n, 2) for name, value in totals.items()},
        "mean_words": round(words / max(len(data) - failures, 1), 1),
        "seconds": round(time.perf_counter() - started, 3),
    }

"""Fields against an LLM's field summaries (the data/modern/ format): each cell's ROUGE-1 beside the extractive
oracle's."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.evaluate.data import LLM_FIELDS, load_llm_fields
from pipeline.evaluate.engine import failure_reason, tally
from pipeline.evaluate.scoring import Rouge1


def evaluate_llm_fields(
    path: Path, summarize: Callable[[str, str], Any], *, limit: int | None = None
) -> dict[str, Any]:
    """Each cell's ROUGE-1 F1 (×100, stemming) against the LLM's field, beside the extractive oracle (the one
    abstract sentence closest to that field) and their ratio; how often the key result is the sentence closest to
    the LLM's result (``key_result_agreement``); how often each cell is empty. An empty cell scores 0.

    The key result's sentence is found by text (the abstract sentence closest to the cell), so any engine's output
    can be scored; a failed paper scores 0 everywhere and counts as empty.
    """
    from pipeline.extractive.text import split_sentences

    rouge = Rouge1()
    data = load_llm_fields(path)[:limit]
    ours = {name: 0.0 for name in LLM_FIELDS}
    oracle = {name: 0.0 for name in LLM_FIELDS}
    empty = {name: 0 for name in LLM_FIELDS}
    agree = failures = 0
    reasons: list[str] = []
    started = time.perf_counter()
    for paper in data:
        sentences = split_sentences(paper.abstract)
        best = {name: rouge.closest(sentences, target) for name, target in paper.fields.items()}
        for name in LLM_FIELDS:
            oracle[name] += best[name][1]
        try:
            summary = summarize(paper.title, paper.abstract).summary
        except Exception as exc:  # a failed paper scores nothing (counted)
            failures += 1
            reasons.append(failure_reason(exc))
            for name in LLM_FIELDS:
                empty[name] += 1
            continue
        cells = {
            "tldr": summary.tldr,
            "problem": summary.problem,
            "method": summary.method,
            "key_result": summary.results[0] if summary.results else "",
        }
        for name, cell in cells.items():
            if not cell.strip():
                empty[name] += 1
                continue
            ours[name] += rouge.f1(cell, paper.fields[name])
        if cells["key_result"].strip() and best["key_result"][0] >= 0:
            agree += int(rouge.closest(sentences, cells["key_result"])[0] == best["key_result"][0])
    n = len(data) or 1
    fields = {
        name: {
            "rouge1": round(100 * ours[name] / n, 2),
            "oracle": round(100 * oracle[name] / n, 2),
            "ratio": round(ours[name] / oracle[name], 4) if oracle[name] else 0.0,
            "empty": round(empty[name] / n, 4),
        }
        for name in LLM_FIELDS
    }
    return {
        "papers": len(data),
        "failed": failures,
        "failure_reasons": tally(reasons),
        "fields": fields,
        "key_result_agreement": round(agree / n, 4),
        "results_empty": fields["key_result"]["empty"],
        "seconds": round(time.perf_counter() - started, 3),
    }

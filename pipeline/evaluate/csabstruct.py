"""Scoring sentence roles against CSAbstruct-format labels: micro/macro F1 and per-role P/R/F1; and the sentences
behind each field (any engine) against the same gold roles."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline.evaluate.data import Abstract, load_labelled
from pipeline.evaluate.engine import failure_reason, tally
from pipeline.evaluate.scoring import score


def evaluate(path: Path, predict: Callable[[list[str]], list[str]], *, limit: int | None = None) -> dict[str, Any]:
    """Score ``predict`` (sentences → roles, one abstract at a time) on a labelled file."""
    data = load_labelled(path)[:limit]
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


# --- Fields, for any engine ---------------------------------------------------------------------------------

# The gold roles each field should draw from.
FIELD_ROLES: dict[str, frozenset[str]] = {
    "problem": frozenset({"background", "objective"}),
    "method": frozenset({"method"}),
    "results": frozenset({"result"}),
}


def _gold_index(abstract: Abstract, sentences: Sequence[str]) -> list[int | None]:
    """For each sentence the engine split, the gold sentence that holds most of its characters."""
    gold = [" ".join(s.split()) for s in abstract.sentences]
    spans, pos = [], 0
    for s in gold:
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    text = " ".join(gold)
    out: list[int | None] = []
    cursor = 0
    for piece in sentences:
        start = text.find(piece, cursor)
        if start < 0:
            out.append(None)
            continue
        end = start + len(piece)
        cursor = end
        overlaps = [max(0, min(end, b) - max(start, a)) for a, b in spans]
        best = max(range(len(spans)), key=overlaps.__getitem__)
        out.append(best if overlaps[best] > 0 else None)
    return out


def _prf(tp: int, picked: int, relevant: int) -> dict[str, float]:
    precision = tp / picked if picked else 0.0
    recall = tp / relevant if relevant else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate_fields(path: Path, summarize: Callable[[str, str], Any], *, limit: int | None = None) -> dict[str, Any]:
    """Per-field precision/recall of the sentences behind each field against CSAbstruct gold roles.

    ``summarize(title, abstract)`` returns an engine output with ``evidence`` (sentence indices into
    `pipeline.extractive.text.split_sentences` of the abstract). Precision: the share of a field's sentences whose gold role
    belongs to the field; recall: the share of the abstract's sentences with those roles that the field uses.
    ``key_result_precision``: how often results[0] is a gold result sentence; ``empty``: the share of abstracts
    whose field has no sentence (the embedded engine leaves a problem it is unsure of empty).
    """
    from pipeline.extractive.text import split_sentences

    data = load_labelled(path)[:limit]
    counts = {name: [0, 0, 0] for name in FIELD_ROLES}  # tp, picked, relevant
    empty = dict.fromkeys(FIELD_ROLES, 0)
    key_hits = key_total = failures = 0
    reasons: list[str] = []
    started = time.perf_counter()
    for abstract in data:
        text = " ".join(" ".join(s.split()) for s in abstract.sentences)
        try:
            output = summarize("", text)
        except Exception as exc:  # an engine that fails a paper scores nothing on it (counted)
            failures += 1
            reasons.append(failure_reason(exc))
            for name, roles in FIELD_ROLES.items():
                counts[name][2] += sum(1 for g in abstract.labels if g in roles)
            continue
        mapping = _gold_index(abstract, split_sentences(text))
        evidence = output.evidence
        picks = {
            "problem": list(evidence.problem),
            "method": list(evidence.method),
            "results": [i for group in evidence.results for i in group[:1]],
        }
        for name, roles in FIELD_ROLES.items():
            gold_ids = {mapping[i] for i in picks[name] if 0 <= i < len(mapping) and mapping[i] is not None}
            counts[name][0] += sum(1 for g in gold_ids if abstract.labels[g] in roles)  # type: ignore[index]
            counts[name][1] += len(gold_ids)
            counts[name][2] += sum(1 for g in abstract.labels if g in roles)
            empty[name] += not picks[name]
        if evidence.results and evidence.results[0]:
            first = evidence.results[0][0]
            key_total += 1
            g = mapping[first] if 0 <= first < len(mapping) else None
            key_hits += int(g is not None and abstract.labels[g] == "result")
    seconds = time.perf_counter() - started
    return {
        "abstracts": len(data),
        "failed": failures,
        "failure_reasons": tally(reasons),
        "fields": {
            name: {**_prf(*c), "empty": round(empty[name] / max(len(data), 1), 4)} for name, c in counts.items()
        },
        "key_result_precision": round(key_hits / key_total, 4) if key_total else 0.0,
        "key_result_coverage": round(key_total / len(data), 4) if data else 0.0,
        "seconds": round(seconds, 3),
    }

"""Scoring shared by the evaluations and training: per-role P/R/F1 of sentence roles, ROUGE-1 on cached tokens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pipeline.errors import InputError
from pipeline.extractive.roles import ROLES


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


class Rouge1:
    """ROUGE-1 F1 as rouge-score computes it (its tokenizer, Porter stemming), on token counts cached per text:
    scoring every abstract sentence against every field calls it thousands of times."""

    def __init__(self) -> None:
        try:
            from rouge_score.tokenizers import DefaultTokenizer
        except ImportError as exc:  # pragma: no cover - rouge-score is a dev dependency
            raise InputError("scoring against LLM fields needs rouge-score: pip install -e '.[dev]'") from exc
        self._tokenizer = DefaultTokenizer(use_stemmer=True)
        self._cache: dict[str, Counter[str]] = {}

    def tokens(self, text: str) -> Counter[str]:
        counts = self._cache.get(text)
        if counts is None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            counts = self._cache[text] = Counter(self._tokenizer.tokenize(text))
        return counts

    def f1(self, candidate: str, target: str) -> float:
        a, b = self.tokens(candidate), self.tokens(target)
        overlap = sum((a & b).values())
        if not overlap:
            return 0.0
        precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
        return 2 * precision * recall / (precision + recall)

    def closest(self, sentences: Sequence[str], target: str) -> tuple[int, float]:
        """The index of the sentence closest to ``target`` and its score (-1, 0.0 when nothing overlaps)."""
        best, best_score = -1, 0.0
        for i, sentence in enumerate(sentences):
            value = self.f1(sentence, target)
            if value > best_score:
                best, best_score = i, value
        return best, best_score

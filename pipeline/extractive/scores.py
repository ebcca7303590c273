"""The scores an abstract states, found locally: numbers, each bound to its metric, dataset and subject.

`pipeline.quantities` reads every number of a sentence as a score would be written and says when one cannot be a
score (a year, part of a name, a size, a setting). Three small logistic models over the words around a number
and a few cues decide what rules cannot: is the number a reported result, is it the paper's own or a baseline's,
is it a level or a change (``delta``). They are trained on the hand-labelled train split (data/scores/) by
``python -m pipeline.extractive.scores_train``; weights in ``weights/scores.npy``, names in ``weights/scores.json``.
The metric is the name next to the number (a metric lexicon, learned from the train labels and curated, or the
words a result pattern puts there: "improves X by N", "an X of N", "N% higher X"); the dataset is the benchmark
the sentence names for it ("on X", "X dataset"), or the one named before when the sentence points back ("on
it", "on both"). Numpy only, no network.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.quantities import MAX_SCORES, Quantity, not_a_score, plain, read_sentence, score_problem

WEIGHTS_DIR = Path(__file__).parent / "weights"
DIM = 1 << 12  # hashed feature buckets per model
MODELS = ("result", "own", "delta")
MAX_PER_SENTENCE = 40  # numbers read in one sentence
THRESHOLD = 0.5

_WORD = re.compile(r"[a-z0-9]+(?:[-@][a-z0-9]+)*|[%x()+:;,]")
_RESULT_VERB = re.compile(
    r"\b(achiev|outperform|surpass|improv|reduc|reach|obtain|attain|boost|exceed|gain|increas|decreas|speed|"
    r"accelerat|lower|cut|enhanc|yield|deliver|score|record|show|demonstrat)",
    re.IGNORECASE,
)
_DELTA_AFTER = re.compile(
    r"^\s*(?:\w+\s)?(?:improvement|increase|gain|reduction|decrease|drop|boost|enhancement|speedup|speed-up|"
    r"higher|lower|better|more|less|fewer|faster|smaller|larger|relative|absolute|over|above|savings?|"
    r"acceleration|compression|cut|uplift|lift|margin)\b",
    re.IGNORECASE,
)
_DELTA_BEFORE = re.compile(
    r"\b(?:by|of up to|improv\w*|gains? of|increas\w*|reduc\w*|decreas\w*|boost\w*|outperform\w*[^.;]{0,60}by|"
    r"surpass\w*[^.;]{0,60}by|speedups? of|accelerat\w*|enhanc\w*)\W+(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
_BASELINE = re.compile(
    r"\b(?:baselines?|compared (?:to|with)|versus|vs\.?|than|prior|previous|existing|original|standard|vanilla|"
    r"only|from|while|whereas|state-of-the-art models?|humans?|gpt-?\w*|claude|gemini|llama|qwen|o\d)\b",
    re.IGNORECASE,
)


_DIGIT = re.compile(r"\d")


_EXTERNAL = re.compile(
    r"\b(?:GPT|Gemini|Claude|Llama|LLaMA|Qwen|o[134]|DeepSeek|Mistral|Grok|YOLO\w*|ResNet|BERT|RoBERTa|ELECTRA|"
    r"standard|baselines?|vanilla|original|prior|previous|existing|human|humans|models|agents|LLMs)\b"
)
_BEFORE_PAIR = re.compile(
    r"(?:\bfrom|\bvs\.?|\bversus|compared (?:to|with)|\bthan|\bonly|\bof only)\s*$", re.IGNORECASE
)
_OURS = re.compile(r"\b(?:our|ours|we|proposed|this (?:method|approach|model|framework|system))\b", re.IGNORECASE)
_BENCH_TITLE = re.compile(
    r"benchmark|evaluat|how well|can (?:llms|models)|do (?:llms|models)|study|assess|probing", re.IGNORECASE
)


def _bucket(name: str) -> int:
    return zlib.crc32(name.encode()) % DIM


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def features(
    text: str,
    q: Quantity,
    index: int,
    n_sentences: int,
    others: int,
    role: np.ndarray,
    bench: bool = False,
    verb: bool = False,
    ours_at: int = -1,
) -> list[int]:
    """The hashed features of quantity ``q`` of the plain sentence ``text`` (sentence ``index`` of
    ``n_sentences``, with ``others`` other numbers, its role marginals ``role``)."""
    before, after = _words(text[max(0, q.start - 80) : q.start]), _words(text[q.end : q.end + 80])
    names = [f"unit={q.unit or 'none'}", f"dec={'.' in q.value}", f"range={'-' in q.value[1:] or ' to ' in q.value}"]
    names.append(f"sign={q.value[0] if q.value[0] in '+<>~±-' else ''}")
    names.append(f"mag={min(4, len(str(int(abs(q.number)))))}")
    reason = not_a_score(text, q)
    names.append(f"not={reason.split(',')[0][:12] if reason else ''}")
    names.append(f"verb={verb}")
    names.append(f"pos={min(3, 4 * index // max(1, n_sentences))}")
    names.append(f"last={index == n_sentences - 1}")
    names.append(f"others={min(3, others)}")
    names.append(f"paren={'(' in text[max(0, q.start - 2) : q.start]}")
    names.append(f"dafter={bool(_DELTA_AFTER.match(text[q.end :]))}")
    names.append(f"dbefore={bool(_DELTA_BEFORE.search(text[max(0, q.start - 90) : q.start]))}")
    names.append(f"base={bool(_BASELINE.search(text[max(0, q.start - 60) : q.start]))}")
    names.append(f"baseafter={bool(_BASELINE.search(text[q.end : q.end + 40]))}")
    for k, w in enumerate(reversed(before[-3:])):
        names.append(f"p{k}={w}")
    for k, w in enumerate(after[:3]):
        names.append(f"n{k}={w}")
    names += [f"pw={w}" for w in before[-8:]] + [f"nw={w}" for w in after[:8]]
    names.append(f"p01={'_'.join(before[-2:])}")
    names.append(f"n01={'_'.join(after[:2])}")
    names += [f"role{k}={min(3, int(p * 4))}" for k, p in enumerate(role)]
    near = text[max(0, q.start - 60) : q.start]
    names.append(f"ext={bool(_EXTERNAL.search(near))}")
    names.append(f"extafter={bool(_EXTERNAL.search(text[q.end : q.end + 30]))}")
    names.append(f"pair={bool(_BEFORE_PAIR.search(text[max(0, q.start - 16) : q.start]))}")
    names.append(f"ours={0 <= ours_at < q.start}")
    names.append(f"bench={bench}")
    names.append("bias")
    return [_bucket(n) for n in names]


@dataclass
class ScoreModel:
    weights: np.ndarray  # (len(MODELS), DIM)
    metrics: tuple[str, ...]  # the metric lexicon, longest first
    datasets: tuple[str, ...]  # known benchmark names

    @property
    def metric_set(self) -> frozenset[str]:
        return frozenset(self.metrics)

    def probabilities(self, rows: list[list[int]]) -> np.ndarray:
        """(n, len(MODELS)) probabilities of each model for each feature row."""
        if not rows:
            return np.zeros((0, len(MODELS)))
        z = np.array([self.weights[:, row].sum(axis=1) for row in rows])
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=1)
def default_model() -> ScoreModel:
    meta = json.loads((WEIGHTS_DIR / "scores.json").read_text(encoding="utf-8"))
    weights = np.load(WEIGHTS_DIR / "scores.npy")
    return ScoreModel(weights, tuple(meta["metrics"]), tuple(meta["datasets"]))


def candidates(
    sentences: list[str], roles: np.ndarray | None = None, title: str = ""
) -> list[tuple[int, str, Quantity, list[int]]]:
    """Every number that may be a score: (sentence index, plain sentence, quantity, features). ``roles``: the
    sentence-role marginals (n, 5) of `pipeline.extractive.roles` (computed when not given)."""
    if roles is None:
        from pipeline.extractive.roles import default_model as roles_model

        roles = roles_model().analyse(sentences)[1] if sentences else np.zeros((0, 5))
    out = []
    bench = bool(_BENCH_TITLE.search(title))
    for i, sentence in enumerate(sentences):
        if _DIGIT.search(sentence) is None:
            continue
        text, _, every = read_sentence(sentence)
        found = every[:MAX_PER_SENTENCE]  # a flood of numbers costs a bounded amount per sentence
        verb = _RESULT_VERB.search(text) is not None
        ours = _OURS.search(text)
        for q in found:
            if not_a_score(text, q) is None:
                row = features(
                    text, q, i, len(sentences), len(found) - 1, roles[i], bench, verb, ours.start() if ours else -1
                )
                out.append((i, text, q, row))
    return out


def extract_scores(
    title: str, sentences: list[str], model: ScoreModel | None = None, roles: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """The scores ``sentences`` (an abstract's) state, as `pipeline.schema.Score` objects (dicts); ``roles``: the
    sentences' role marginals when already computed."""
    from pipeline.extractive import score_names as names

    model = model or default_model()
    found = candidates(sentences, roles, title)
    probs = model.probabilities([row for *_, row in found])
    subject = names.method_name(title, sentences)
    out: list[dict[str, Any]] = []
    context: dict[str, str] = {"dataset": ""}
    for (i, text, q, _), p in zip(found, probs, strict=True):
        if p[0] < THRESHOLD:
            continue
        kind = "delta" if p[2] >= 0.5 else "absolute"
        own = bool(p[1] >= 0.5)
        dataset = names.dataset_for(text, q, model.datasets, sentences, i, context, model.metric_set)
        out.append(
            {
                "value": q.value,
                "number": q.number,
                "unit": q.unit,
                "metric": names.metric_for(text, q, model.metrics),
                "dataset": dataset,
                "task": "",
                "subject": subject if own else names.baseline_for(text, q),
                "own": own,
                "kind": kind,
                "relative_to": names.relative_to(text, q) if kind == "delta" else "",
                "sentence": i,
            }
        )
    return _grounded(out[: 2 * MAX_SCORES], sentences)[:MAX_SCORES]


def _grounded(found: list[dict[str, Any]], sentences: list[str]) -> list[dict[str, Any]]:
    """The scores the record's validator accepts: a subject the abstract does not name (a title's name) becomes
    "ours"; a score refused for any other reason is left out, so the engine never fails a paper on a score."""
    abstract = " ".join(sentences)
    grounding: dict[str, Any] = {"sentences": sentences}
    out = []
    for score in found:
        problem = score_problem(score, abstract, grounding)
        if problem is not None and "subject" in problem:
            score = {**score, "subject": "ours"}
            problem = score_problem(score, abstract, grounding)
        if problem is None:
            out.append(score)
    return out


def digits_of(value: str) -> str:
    """The digits of a labelled value (as the matching rule compares them)."""
    return "".join(c for c in plain(str(value)) if c.isdigit())


SCORES_VERSION = 1  # bump when the rules change: part of the embedded engine's cache key with the weights' hash


@lru_cache(maxsize=1)
def model_hash() -> str:
    """The extractor's version and its weights' hash (a retrained or changed extractor re-summarises)."""
    import hashlib

    digest = hashlib.sha256(str(SCORES_VERSION).encode())
    for name in ("scores.json", "scores.npy"):
        path = WEIGHTS_DIR / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]

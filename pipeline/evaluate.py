"""Scoring sentence roles against CSAbstruct-format labels: micro/macro F1 and per-role P/R/F1."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.roles import ROLES


@dataclass
class Abstract:
    sentences: list[str]
    labels: list[str]


def _records(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line of a labelled JSONL file; an unreadable file is an error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from exc
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def load_labelled(path: Path) -> list[Abstract]:
    """A CSAbstruct-format JSONL file: ``sentences`` and ``labels`` of equal length on every line."""
    out: list[Abstract] = []
    for number, line in _records(path):
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


# --- Fields and tldrs, for any engine -------------------------------------------------------------------------

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


def engine_summarizer(settings: Any) -> Callable[[str, str], Any]:
    """``(title, abstract) -> EngineOutput`` for the engine the settings name (the LLM one imports litellm)."""
    from pipeline.engines import get_engine
    from pipeline.schema import Paper

    engine = get_engine(settings)
    if hasattr(engine, "require_credentials"):
        engine.require_credentials()

    def summarize(title: str, abstract: str) -> Any:
        return engine.summarize(Paper(id="eval", title=title or "Untitled", abstract=abstract, source="eval"))

    return summarize


def evaluate_fields(path: Path, summarize: Callable[[str, str], Any], *, limit: int | None = None) -> dict[str, Any]:
    """Per-field precision/recall of the sentences behind each field against CSAbstruct gold roles.

    ``summarize(title, abstract)`` returns an engine output with ``evidence`` (sentence indices into
    `pipeline.text.split_sentences` of the abstract). Precision: the share of a field's sentences whose gold role
    belongs to the field; recall: the share of the abstract's sentences with those roles that the field uses.
    ``key_result_precision``: how often results[0] is a gold result sentence.
    """
    from pipeline.text import split_sentences

    data = load_labelled(path)[:limit]
    counts = {name: [0, 0, 0] for name in FIELD_ROLES}  # tp, picked, relevant
    key_hits = key_total = failures = 0
    started = time.perf_counter()
    for abstract in data:
        text = " ".join(" ".join(s.split()) for s in abstract.sentences)
        try:
            output = summarize("", text)
        except Exception:  # an engine that fails a paper scores nothing on it (counted)
            failures += 1
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
        if evidence.results and evidence.results[0]:
            first = evidence.results[0][0]
            key_total += 1
            g = mapping[first] if 0 <= first < len(mapping) else None
            key_hits += int(g is not None and abstract.labels[g] == "result")
    seconds = time.perf_counter() - started
    return {
        "abstracts": len(data),
        "failed": failures,
        "fields": {name: _prf(*c) for name, c in counts.items()},
        "key_result_precision": round(key_hits / key_total, 4) if key_total else 0.0,
        "key_result_coverage": round(key_total / len(data), 4) if data else 0.0,
        "seconds": round(seconds, 3),
    }


@dataclass
class TldrPaper:
    title: str
    sentences: list[str]
    targets: list[str]


def load_tldr(path: Path) -> list[TldrPaper]:
    """A SciTLDR-format JSONL file: ``source`` (sentences), ``target`` (one or more TLDRs), ``title``."""
    out: list[TldrPaper] = []
    for number, line in _records(path):
        try:
            obj = json.loads(line)
            sentences, targets = list(obj["source"]), list(obj["target"])
            title = str(obj.get("title") or "")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a SciTLDR record ({exc})", path=str(path), line=number) from exc
        if not sentences or not targets or not all(isinstance(x, str) for x in sentences + targets):
            raise InputError("source and target must be non-empty lists of text", path=str(path), line=number)
        out.append(TldrPaper(title, sentences, targets))
    return out


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
    started = time.perf_counter()
    for paper in data:
        try:
            tldr = summarize(paper.title, " ".join(paper.sentences)).summary.tldr
        except Exception:  # a failed paper scores 0 (counted)
            failures += 1
            continue
        words += len(tldr.split())
        for name, value in rouge_best(tldr, paper.targets, scorer).items():
            totals[name] += value
    n = len(data) or 1
    return {
        "papers": len(data),
        "failed": failures,
        **{name: round(100 * value / n, 2) for name, value in totals.items()},
        "mean_words": round(words / max(len(data) - failures, 1), 1),
        "seconds": round(time.perf_counter() - started, 3),
    }


def _changed_number(sentence: str, stated: set[str]) -> str | None:
    """``sentence`` with its first number changed to one the abstract does not state (None: no number)."""
    import re

    from pipeline.schema import numbers_in

    match = re.search(r"(?<![\w.])\d+(?:\.\d+)?", sentence)
    if not match:
        return None
    raw = match.group(0)
    for step in range(1, 50):
        if "." in raw:
            head, tail = raw.split(".")
            candidate = f"{head}.{(int(tail) + step) % 10 ** len(tail):0{len(tail)}d}"
        else:
            candidate = str(int(raw) + step)
        if not numbers_in(candidate) & stated:
            return sentence[: match.start()] + candidate + sentence[match.end() :]
    return None


def evaluate_grounding(path: Path, *, limit: int | None = None, seed: int = 0) -> dict[str, Any]:
    """How the LLM validators treat human and wrong summaries on a SciTLDR file (``summarize eval --grounding``).

    Refused: the author's TLDR (first target) and the reviewer-derived ones (the others) as a tldr. Accepted:
    another paper's author TLDR, and a result sentence of the abstract with one number changed.
    """
    import random

    from pydantic import ValidationError

    from pipeline.schema import Summary, numbers_in

    def accepted(paper: TldrPaper, **fields: Any) -> bool:
        abstract = " ".join(paper.sentences)
        values: dict[str, Any] = {
            "tldr": paper.sentences[0],
            "problem": paper.sentences[0],
            "method": paper.sentences[0],
        }
        values["results"] = [paper.sentences[-1]]
        values.update(fields)
        try:
            Summary.model_validate(values, context={"abstract": abstract, "text": f"{paper.title}\n{abstract}"})
        except ValidationError:
            return False
        return True

    data = load_tldr(path)[:limit]
    rng = random.Random(seed)
    counts = {"author": [0, 0], "reviewer": [0, 0], "other_paper": [0, 0], "changed_number": [0, 0]}
    for k, paper in enumerate(data):
        counts["author"][0] += not accepted(paper, tldr=paper.targets[0])
        counts["author"][1] += 1
        for target in paper.targets[1:]:
            counts["reviewer"][0] += not accepted(paper, tldr=target)
            counts["reviewer"][1] += 1
        if len(data) > 1:
            other = data[(k + 1 + rng.randrange(len(data) - 1)) % len(data)]
            counts["other_paper"][0] += accepted(paper, tldr=other.targets[0])
            counts["other_paper"][1] += 1
        stated = numbers_in(" ".join(paper.sentences))
        for sentence in paper.sentences:
            changed = _changed_number(sentence, stated)
            if changed:
                counts["changed_number"][0] += accepted(paper, results=[changed])
                counts["changed_number"][1] += 1
                break
    rates = {name: round(hit / total, 4) if total else None for name, (hit, total) in counts.items()}
    return {
        "papers": len(data),
        "author_refused": rates["author"],
        "reviewer_refused": rates["reviewer"],
        "other_paper_accepted": rates["other_paper"],
        "changed_number_accepted": rates["changed_number"],
        "counts": {name: total for name, (_, total) in counts.items()},
    }


# --- Fields against an LLM's field summaries (the data/modern/ format) -----------------------------------------

# Our cell and the LLM's field it is scored against.
LLM_FIELDS: dict[str, str] = {"tldr": "tldr", "problem": "motivation", "method": "method", "key_result": "result"}


@dataclass
class LlmPaper:
    title: str
    abstract: str
    fields: dict[str, str]  # keyed by our cell names (LLM_FIELDS)


def load_llm_fields(path: Path) -> list[LlmPaper]:
    """A data/modern/-format JSONL file: ``title``, ``abstract`` and the LLM's ``tldr``, ``motivation``,
    ``method``, ``result`` (strings) on every line."""
    out: list[LlmPaper] = []
    for number, line in _records(path):
        try:
            obj = json.loads(line)
            abstract = obj["abstract"]
            fields = {ours: obj[theirs] for ours, theirs in LLM_FIELDS.items()}
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not an LLM-fields record ({exc})", path=str(path), line=number) from exc
        if not isinstance(abstract, str) or not all(isinstance(v, str) for v in fields.values()):
            raise InputError("abstract and the LLM's fields must be text", path=str(path), line=number)
        out.append(LlmPaper(str(obj.get("title") or ""), abstract, fields))
    return out


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


def evaluate_llm_fields(
    path: Path, summarize: Callable[[str, str], Any], *, limit: int | None = None
) -> dict[str, Any]:
    """Each cell's ROUGE-1 F1 (×100, stemming) against the LLM's field, beside the extractive oracle (the one
    abstract sentence closest to that field) and their ratio; how often the key result is the sentence closest to
    the LLM's result (``key_result_agreement``); how often each cell is empty. An empty cell scores 0.

    The key result's sentence is found by text (the abstract sentence closest to the cell), so any engine's output
    can be scored; a failed paper scores 0 everywhere and counts as empty.
    """
    from pipeline.text import split_sentences

    rouge = Rouge1()
    data = load_llm_fields(path)[:limit]
    ours = {name: 0.0 for name in LLM_FIELDS}
    oracle = {name: 0.0 for name in LLM_FIELDS}
    empty = {name: 0 for name in LLM_FIELDS}
    agree = failures = 0
    started = time.perf_counter()
    for paper in data:
        sentences = split_sentences(paper.abstract)
        best = {name: rouge.closest(sentences, target) for name, target in paper.fields.items()}
        for name in LLM_FIELDS:
            oracle[name] += best[name][1]
        try:
            summary = summarize(paper.title, paper.abstract).summary
        except Exception:  # a failed paper scores nothing (counted)
            failures += 1
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
        "fields": fields,
        "key_result_agreement": round(agree / n, 4),
        "results_empty": fields["key_result"]["empty"],
        "seconds": round(time.perf_counter() - started, 3),
    }

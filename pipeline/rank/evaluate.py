"""Scores a ranker on "library vs day" cases: a folder with ``cases.jsonl`` (case, topic, library ids, candidate
ids, relevant ids) and ``papers.jsonl`` (id, title, abstract, authors, published), the format of
``data/ranking/``. Precision@10 and nDCG@10 (binary gains) of the ranked candidates, averaged over cases, overall
and per topic. The labels are only read to score; nothing is fitted on them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import InputError
from pipeline.files import read_regular
from pipeline.rank.embedded import Params, Profile, rank
from pipeline.sources.files import read_jsonl

K = 10
MAX_FILE_BYTES = 256 * 1024 * 1024

# A ranker: (library papers, candidate papers) -> candidate ids, best first
Ranker = Callable[[Sequence[dict[str, Any]], Sequence[dict[str, Any]]], list[str]]


class _Paper(BaseModel):
    """A labelled paper of ``papers.jsonl``: its id is text, its fields the ranker reads are of their types."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=500)
    title: str = ""
    abstract: str = ""
    authors: list[str] = Field(default_factory=list)
    published: str | None = None


class _Case(BaseModel):
    """A case of ``cases.jsonl``: the library, candidates and relevant papers as lists of ids."""

    model_config = ConfigDict(extra="allow")
    case: str | int = ""
    topic: str = ""
    library: list[str]
    candidates: list[str]
    relevant: list[str]


def _read_jsonl(path: Path, model: type[BaseModel]) -> list[dict[str, Any]]:
    """Every line of a labelled file through the input reader (bounded, depth-limited) and ``model``: the first bad
    line is an InputError naming the file and the line."""
    try:
        data = read_regular(path, limit=MAX_FILE_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc

    def make(obj: dict[str, Any], *, source: str, path: str, line: int) -> dict[str, Any] | InputError:
        try:
            return model.model_validate(obj).model_dump()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "the line"
            return InputError(f"{where}: {first.get('msg', 'invalid')}", path=path, line=line)

    out = []
    for item in read_jsonl(data, str(path), make=make):
        if isinstance(item, InputError):
            raise item
        out.append(item)
    return out


def _when(paper: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(paper.get("published"))[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None


def load_cases(directory: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    cases = _read_jsonl(directory / "cases.jsonl", _Case)
    papers = {p["id"]: {**p, "when": _when(p)} for p in _read_jsonl(directory / "papers.jsonl", _Paper)}
    for n, case in enumerate(cases, 1):
        for key in ("library", "candidates", "relevant"):
            missing = [i for i in case.get(key, []) if i not in papers]
            if missing:
                raise InputError(
                    f"case {case.get('case', n)}: {key} names unknown papers {missing[:3]}",
                    path=str(directory / "cases.jsonl"),
                    line=n,
                )
    return cases, papers


def precision_at(ranked: Sequence[str], relevant: set[str], k: int = K) -> float:
    return sum(1 for x in ranked[:k] if x in relevant) / k


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = K) -> float:
    dcg = math.fsum(1 / math.log2(i + 2) for i, x in enumerate(ranked[:k]) if x in relevant)
    ideal = math.fsum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def embedded_ranker(params: Params | None = None) -> Ranker:
    def ranker(library: Sequence[dict[str, Any]], candidates: Sequence[dict[str, Any]]) -> list[str]:
        return [r.id for r in rank(candidates, Profile(positives=library), params)]

    return ranker


def evaluate_ranking(
    directory: Path, ranker: Ranker | None = None, *, topics: set[str] | None = None, limit: int | None = None
) -> dict[str, Any]:
    """P@10 and nDCG@10 overall and per topic (cases of ``topics`` only, when given)."""
    ranker = ranker or embedded_ranker()
    cases, papers = load_cases(directory)
    if topics is not None:
        cases = [c for c in cases if c.get("topic") in topics]
    if limit is not None:
        cases = cases[:limit]
    per_topic: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for case in cases:
        ranked = ranker([papers[i] for i in case["library"]], [papers[i] for i in case["candidates"]])
        relevant = set(case["relevant"])
        per_topic[str(case.get("topic", ""))].append((precision_at(ranked, relevant), ndcg_at(ranked, relevant)))
    scores = [s for values in per_topic.values() for s in values]

    def mean(values: list[float]) -> float:
        return round(math.fsum(values) / len(values), 4) if values else 0.0

    return {
        "cases": len(scores),
        "p_at_10": mean([p for p, _ in scores]),
        "ndcg_at_10": mean([n for _, n in scores]),
        "topics": {
            topic: {"cases": len(v), "p_at_10": mean([p for p, _ in v]), "ndcg_at_10": mean([n for _, n in v])}
            for topic, v in sorted(per_topic.items())
        },
    }


def ranking_eval(
    directory: Path, ranker: str, settings: Any, *, rank_model: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """``summarize eval --ranking DIR``: the named ranker's scores, then (``rank_model``) the LLM judge's."""
    from pipeline.rank.baselines import BASELINES

    if ranker != "embedded" and ranker not in BASELINES:
        raise InputError(f"unknown --ranker {ranker!r}; choose from embedded, {', '.join(BASELINES)}")
    chosen = embedded_ranker() if ranker == "embedded" else BASELINES[ranker]
    results = [{"ranker": ranker, "path": str(directory), **evaluate_ranking(directory, chosen, limit=limit)}]
    if rank_model:
        from pipeline.rank.judge import judged_ranker

        judged, stats = judged_ranker(settings, rank_model)
        result = evaluate_ranking(directory, judged, limit=limit)
        results.append({"ranker": f"judge:{rank_model}", "path": str(directory), **result, "judge": stats()})
    return results


def print_ranking_eval(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=escape(f"{result['path']}: ranker {result['ranker']}, {result['cases']} cases"), title_justify="left"
    )
    for column in ("topic", "cases", "P@10", "nDCG@10"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for topic, v in result["topics"].items():
        table.add_row(escape(topic), str(v["cases"]), f"{v['p_at_10']:.3f}", f"{v['ndcg_at_10']:.3f}")
    table.add_row("all", str(result["cases"]), f"{result['p_at_10']:.3f}", f"{result['ndcg_at_10']:.3f}", style="bold")
    Console(highlight=False).print(table)
    if "judge" in result:
        Console(highlight=False).print(escape(f"judge: {result['judge']}"))

"""Leaderboards over a whole corpus: per benchmark (dataset, metric) that at least two papers report, each paper's
own best score on it, best first by the metric's direction.

A score counts when it is the paper's own (``own`` true), an absolute value (``kind`` "absolute", not a gain over
a baseline), with a finite number and a named dataset and metric. Scores of one benchmark line up by key
(`pipeline.leaderboard.names`): "ImageNet-1K" and "ImageNet 1k" are one dataset. The unit splits a benchmark only
when it measures something else: "85.3%" and "85.3" sit on one board, "12 ms" and "0.5 s" of latency do not.
Boards read records, never the cache, and hold no reader's state.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.leaderboard.names import LOWER, Names, unit_family
from pipeline.leaderboard.read import scored_records

MIN_PAPERS = 2


@dataclass(frozen=True)
class Entry:
    """One paper's place on a board."""

    id: str
    title: str
    url: str | None
    published: str
    value: str  # as written: "85.3%"
    number: float
    unit: str
    subject: str
    sentence: str  # the abstract's sentence that states it ("" when its index is out of range)
    dataset: str  # the names as this paper writes them
    metric: str


@dataclass
class Board:
    """A benchmark: a dataset and a metric (and a unit), its entries best first."""

    dataset: str
    metric: str
    direction: str  # "lower" or "higher" (is better)
    unit: str
    key: str  # dataset key | metric key | unit: what the page and --json call it
    entries: list[Entry] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "metric": self.metric,
            "direction": self.direction,
            "unit": self.unit,
            "key": self.key,
            "papers": len(self.entries),
            "entries": [{"rank": n, **entry.__dict__} for n, entry in enumerate(self.entries, 1)],
        }


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def own_scores(record: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """The scores of ``record`` a board can rank: own, absolute, a finite number, a dataset and a metric named.
    Each is checked for type here (the corpus is read without validating every record)."""
    return rankable(record.get("scores"))


def rankable(scores: object) -> list[dict[str, Any]]:
    """The scores of a ``scores`` list that a board can rank (`own_scores`)."""
    return [score for score in scores if _ranks(score)] if isinstance(scores, list) else []


def any_rankable(scores: list[Any]) -> bool:
    return any(map(_ranks, scores))


def _ranks(score: object) -> bool:
    if type(score) is not dict or score.get("own") is not True or score.get("kind") != "absolute":
        return False
    number, dataset, metric = score.get("number"), score.get("dataset"), score.get("metric")
    if type(number) not in (int, float) or not math.isfinite(number):
        return False
    if type(dataset) is not str or type(metric) is not str or not 0 < len(dataset) <= 200 or not 0 < len(metric) <= 200:
        return False
    return not dataset.isspace() and not metric.isspace()


def _sentence(record: dict[str, Any], index: object, cache: dict[str, tuple[list[str], bool]]) -> str:
    """Sentence ``index`` of the record's abstract (as the engines number them), the abstract split only as far
    as the furthest sentence asked for yet (``cache``: id → the sentences so far, whether that is all of them)."""
    if type(index) is not int or not 0 <= index < 400:
        return ""
    key = str(record.get("id"))
    sentences, whole = cache.get(key, ([], False))
    if index >= len(sentences) and not whole:
        from pipeline.extractive.text import split_sentences

        abstract = record.get("abstract")
        sentences = split_sentences(abstract if isinstance(abstract, str) else "", first=index + 1)
        whole = len(sentences) <= index
        cache[key] = (sentences, whole)
    return sentences[index] if index < len(sentences) else ""


def _entry(record: dict[str, Any], score: dict[str, Any], sentences: dict[str, tuple[list[str], bool]]) -> Entry:
    url = record.get("url")
    return Entry(
        id=str(record["id"]),
        title=_text(record.get("title")),
        url=url if isinstance(url, str) and url.lower().startswith(("https://", "http://")) else None,
        published=_text(record.get("published"))[:10],
        value=_text(score.get("value")) or f"{score['number']:g}",
        number=float(score["number"]),
        unit=_text(score.get("unit")),
        subject=_text(score.get("subject")),
        sentence=_sentence(record, score.get("sentence"), sentences),
        dataset=_text(score["dataset"]),
        metric=_text(score["metric"]),
    )


def _matches(key: str, wanted: str | None) -> bool:
    """--dataset/--metric: the board's key starts with the wanted name's key ("imagenet" finds ImageNet-1K)."""
    return wanted is None or key.startswith(wanted)


def build(
    records: Iterable[dict[str, Any]],
    names: Names | None = None,
    *,
    dataset: str | None = None,
    metric: str | None = None,
    min_papers: int = MIN_PAPERS,
) -> list[Board]:
    """The boards of ``records`` (dicts as the corpus holds them), those with ``min_papers`` papers or more, most
    papers first; ``dataset``/``metric`` keep only the boards whose keys start with theirs."""
    names = names or Names.default()
    want_dataset = names.dataset(dataset) if dataset else None
    want_metric = names.metric(metric) if metric else None
    best: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {}  # board key → paper id → its best
    lower: dict[str, bool] = {}
    for record in records:
        for score in own_scores(record):
            d_key, m_key = names.dataset(score["dataset"]), names.metric(score["metric"])
            if not (_matches(d_key, want_dataset) and _matches(m_key, want_metric)):
                continue
            key = f"{d_key}|{m_key}|{unit_family(_text(score.get('unit')))}"  # as `Names.board_key`
            if key not in lower:
                lower[key] = names.direction(score["metric"]) == LOWER
            papers = best.setdefault(key, {})
            held = papers.get(record["id"])
            if held is None or _better(score["number"], held[1]["number"], lower[key]):
                papers[record["id"]] = (record, score)
    boards = []
    sentences: dict[str, tuple[list[str], bool]] = {}
    for key, papers in best.items():
        if len(papers) < min_papers:
            continue
        entries = [_entry(record, score, sentences) for record, score in papers.values()]
        entries.sort(key=lambda e: (e.number if lower[key] else -e.number, e.id))
        boards.append(_board(key, entries, lower[key]))
    boards.sort(key=lambda b: (-len(b.entries), b.key))
    return boards


def _better(number: float, than: float, lower: bool) -> bool:
    return number < than if lower else number > than


def _board(key: str, entries: list[Entry], lower: bool) -> Board:
    """A board named as most of its papers write its dataset and metric (ties: the shortest, then the first in
    sort order: "ImageNet 256x256" before "ImageNet 256times256")."""

    def usual(values: Iterable[str]) -> str:
        counts = Counter(values)
        return min(counts, key=lambda v: (-counts[v], len(v), v))

    units = [e.unit for e in entries if e.unit]
    return Board(
        dataset=usual(e.dataset for e in entries),
        metric=usual(e.metric for e in entries),
        direction="lower" if lower else "higher",
        unit=usual(units) if units else "",
        key=key,
        entries=entries,
    )


def leaderboards(
    folder: Path,
    names: Names | None = None,
    *,
    dataset: str | None = None,
    metric: str | None = None,
    min_papers: int = MIN_PAPERS,
) -> tuple[list[Board], int]:
    """The boards over every record of ``folder``'s corpus (single or partitioned), and how many records it
    holds. Raises InputError when the folder has no corpus."""
    from pipeline.archive.store import has_corpus

    if not has_corpus(folder):
        raise InputError(f"no corpus.jsonl or corpus/ partitions in {folder}; run `summarize run` first")
    found = scored_records(folder, any_rankable, named=True)
    boards = build(found.records.values(), names, dataset=dataset, metric=metric, min_papers=min_papers)
    return boards, found.total

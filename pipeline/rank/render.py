"""What a run renders for a reader with interests: the merged corpus ranked (ranking.jsonl), and what the tables,
the page and the feed need of it. The corpus itself stays reader-independent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.rank import (
    RANKING_FILE,
    interests_used,
    load_library,
    profile_of,
    rank_papers,
    select,
    write_ranking,
)

MAX_WHY = 160


@dataclass
class CorpusRanking:
    """Per record id: its place, score and reasons; ``chosen``: the ids the feed holds (top N / threshold)."""

    places: dict[str, dict[str, Any]] = field(default_factory=dict)
    chosen: set[str] = field(default_factory=set)
    summary: dict[str, Any] = field(default_factory=dict)

    def order(self, record: dict[str, Any]) -> str:
        place = self.places.get(str(record.get("id")))
        return f"0{place['position']:012d}" if place else f"1{record.get('id')}"


def why(reasons: list[str], limit: int = MAX_WHY) -> str:
    """The reasons as one short cell."""
    text = "; ".join(reasons)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rank_corpus(out_dir: Path, settings: Any) -> CorpusRanking:
    """Ranks every record of ``out_dir/corpus.jsonl`` by ``settings.interests``; writes ranking.jsonl."""
    from pipeline.archive.store import read_lines  # corpus.jsonl or corpus/ partitions
    from pipeline.corpus.lines import MergeReport

    records = [line.obj for line in read_lines(out_dir, MergeReport()) if line.obj is not None]
    interests = settings.interests
    library = load_library(interests, records, settings)
    ranked = rank_papers(records, profile_of(interests, library))
    note = None
    if interests.rank_model:
        from pipeline.rank.judge import judge_ranking

        ranked, note = judge_ranking(ranked, interests, settings)
    write_ranking(out_dir / RANKING_FILE, ranked)
    chosen = select(ranked, interests.top, interests.threshold)
    out = CorpusRanking()
    for position, item in enumerate(ranked):
        out.places[item.id] = {
            "position": position,
            "score": item.score,
            "reasons": item.reasons,
            "why": why(item.reasons),
        }
    out.chosen = {item.id for item in chosen}
    out.summary = interests_used(interests, library, ranked, chosen)
    if library is not None and library.problems:
        out.summary["library_problems"] = [str(p) for p in library.problems[:20]]
    if note:
        out.summary["judge_note"] = note
    return out


class Chosen:
    """A sink that passes on only the records the reader's digest holds (the feed: top N / above a threshold)."""

    def __init__(self, sink: Any, chosen: set[str]) -> None:
        self.sink, self.chosen = sink, chosen

    def add(self, record: dict[str, Any]) -> None:
        if str(record.get("id")) in self.chosen:
            self.sink.add(record)

    def restart(self) -> None:
        self.sink.restart()

    def close(self) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.sink.abort()

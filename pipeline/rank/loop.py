"""The reader's loop replayed offline: does a reader's voting make the next days' ranking better?

For each topic of a "library vs day" folder (``data/ranking``: one library per topic, ~10 days of candidates), the
days are taken in date order. Each morning the reader sees the day's top 10 and votes "more like this" on the
relevant ones and "less like this" on the rest (the simulation the outside judgement uses); the votes pile up, as
the page keeps them, and go back with the library into the next day's ranking. Every later day is ranked twice:
with the library and the votes so far, and with the library alone. Day one has no votes.

    summarize eval --ranking data/ranking --feedback-days

The labels decide only the simulated votes and the scores; nothing is fitted on them beyond what a reader's own
votes give the ranker on the day after.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.rank.embedded import Params, Profile, rank
from pipeline.rank.evaluate import K, load_cases, ndcg_at, precision_at

# (library papers, votes as (paper, "more" | "less"), candidates) -> candidate ids, best first
VotingRanker = Callable[
    [Sequence[dict[str, Any]], Sequence[tuple[dict[str, Any], str]], Sequence[dict[str, Any]]], list[str]
]


def embedded_voting_ranker(params: Params | None = None) -> VotingRanker:
    def ranker(
        library: Sequence[dict[str, Any]],
        votes: Sequence[tuple[dict[str, Any], str]],
        candidates: Sequence[dict[str, Any]],
    ) -> list[str]:
        more = [p for p, v in votes if v == "more"]
        less = [p for p, v in votes if v == "less"]
        profile = Profile(positives=list(library), negatives=less, votes=more)
        return [r.id for r in rank(candidates, profile, params)]

    return ranker


def _day(case: dict[str, Any]) -> str:
    return str(case.get("case", "")).rsplit("/", 1)[-1]


def _mean(values: Sequence[float]) -> float:
    return round(math.fsum(values) / len(values), 4) if values else 0.0


def replay(directory: Path, ranker: VotingRanker | None = None, *, limit: int | None = None) -> dict[str, Any]:
    """Day one, later days with votes and later days from the library alone: P@10 and nDCG@10, overall and per
    topic, with the worst day's difference (votes minus library alone)."""
    ranker = ranker or embedded_voting_ranker()
    cases, papers = load_cases(directory)
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        by_topic[str(case.get("topic", ""))].append(case)
    rows: list[dict[str, Any]] = []
    topics: dict[str, dict[str, Any]] = {}
    for topic, days in sorted(by_topic.items()):
        days = sorted(days, key=_day)[: limit if limit is not None else None]
        library = [papers[i] for i in days[0]["library"]]
        votes: list[tuple[dict[str, Any], str]] = []
        topic_rows = []
        for n, case in enumerate(days):
            candidates = [papers[i] for i in case["candidates"]]
            relevant = set(case["relevant"])
            alone = ranker(library, [], candidates)
            voted = ranker(library, votes, candidates) if votes else alone
            row = {
                "topic": topic,
                "day": _day(case),
                "n": n,
                "votes": len(votes),
                "alone_p": precision_at(alone, relevant),
                "voted_p": precision_at(voted, relevant),
                "alone_ndcg": ndcg_at(alone, relevant),
                "voted_ndcg": ndcg_at(voted, relevant),
            }
            topic_rows.append(row)
            # this morning's votes, on what the reader was shown (the voted ranking), dated this day
            when = _vote_time(case)
            for pid in voted[:K]:
                paper = {**papers[pid], "when": when}
                votes.append((paper, "more" if pid in relevant else "less"))
        rows.extend(topic_rows)
        later = [r for r in topic_rows if r["n"] > 0]
        topics[topic] = {
            "days": len(topic_rows),
            "day_one_p_at_10": topic_rows[0]["alone_p"] if topic_rows else 0.0,
            "votes_p_at_10": _mean([r["voted_p"] for r in later]) if later else None,
            "alone_p_at_10": _mean([r["alone_p"] for r in later]) if later else None,
        }
    later = [r for r in rows if r["n"] > 0]
    first = [r for r in rows if r["n"] == 0]
    diffs = [r["voted_p"] - r["alone_p"] for r in later]
    return {
        "topics_count": len(topics),
        "days": len(rows),
        "day_one_p_at_10": _mean([r["alone_p"] for r in first]),
        "votes_p_at_10": _mean([r["voted_p"] for r in later]),
        "alone_p_at_10": _mean([r["alone_p"] for r in later]),
        "votes_ndcg_at_10": _mean([r["voted_ndcg"] for r in later]),
        "alone_ndcg_at_10": _mean([r["alone_ndcg"] for r in later]),
        "gain_p_at_10": round(_mean([r["voted_p"] for r in later]) - _mean([r["alone_p"] for r in later]), 4),
        "worst_day_gain": round(min(diffs), 4) if diffs else 0.0,
        "days_worse_by_more_than_0.1": sum(1 for d in diffs if d < -0.1 - 1e-9),
        "topics": topics,
        "rows": rows,
    }


def _vote_time(case: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(_day(case)).replace(tzinfo=UTC) + timedelta(hours=9)
    except ValueError:
        return None


def print_replay(result: dict[str, Any], path: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=escape(f"{path}: the reader's loop replayed, {result['days']} days of {result['topics_count']} topics"),
        title_justify="left",
    )
    for column in ("topic", "days", "day one P@10", "later, with votes", "later, library alone"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for topic, v in result["topics"].items():
        table.add_row(
            escape(topic),
            str(v["days"]),
            f"{v['day_one_p_at_10']:.3f}",
            "–" if v["votes_p_at_10"] is None else f"{v['votes_p_at_10']:.3f}",
            "–" if v["alone_p_at_10"] is None else f"{v['alone_p_at_10']:.3f}",
        )
    table.add_row(
        "all",
        str(result["days"]),
        f"{result['day_one_p_at_10']:.3f}",
        f"{result['votes_p_at_10']:.3f}",
        f"{result['alone_p_at_10']:.3f}",
        style="bold",
    )
    console = Console(highlight=False)
    console.print(table)
    console.print(
        f"votes gain P@10 {result['gain_p_at_10']:+.3f} on later days; worst day {result['worst_day_gain']:+.3f}; "
        f"days where votes cost more than 0.1: {result['days_worse_by_more_than_0.1']}"
    )

"""Ranking by the reader's interests: the stage between the corpus and rendering.

    from pipeline.rank import rank_papers, profile_of, write_ranking
    profile = profile_of(settings.interests, library)          # library: pipeline.sources.library.Library
    ranked = rank_papers(papers, profile)                      # best first, each with score and reasons
    write_ranking(out_dir / "ranking.jsonl", ranked)           # one JSON object a line, best first

The corpus never holds a reader's score: ranking reads papers (any input, or corpus records) plus the interests
and writes a ranking; rendering and delivery read both. Modules: ``vectors`` (tf-idf, global idf), ``embedded``
(the ranker and its reasons), ``baselines`` (the rankers it was chosen against), ``evaluate`` (P@10, nDCG@10 on
library-vs-day cases), ``judge`` (the optional LLM judge; imports litellm/instructor only when used), ``train``
(writes the shipped idf table).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipeline.rank.embedded import Params, Profile, Ranked, rank, score_of

RANKING_FILE = "ranking.jsonl"

__all__ = [
    "RANKING_FILE",
    "check_interests",
    "Params",
    "Profile",
    "Ranked",
    "interests_used",
    "load_library",
    "print_ranking",
    "profile_of",
    "rank",
    "rank_papers",
    "read_ranking",
    "score_of",
    "select",
    "wanted",
    "write_ranking",
]


def load_library(interests: Any, papers: Iterable[Any] = (), settings: Any = None) -> Any:
    """The library named by ``interests.library`` (None when none is), entries without an abstract filled from
    the same paper among ``papers`` (the day, the corpus) and, when ``settings.resolve`` is on, from arXiv (by id,
    else by exact title; cached with the run's other lookups). Raises InputError for a file that cannot be read."""
    if not getattr(interests, "library", None):
        return None
    from pipeline.sources.library import read_library

    names = [str(name) for name in interests.library]
    zotero = _zotero(settings) if any(name.lower().startswith("zotero:") for name in names) else None
    try:
        library = read_library(names, remote=zotero.read if zotero is not None else None)
    finally:
        if zotero is not None:
            zotero.http.close()
    library.fill_from(papers)
    if settings is not None and getattr(settings, "resolve", False) and library.lacking_abstract():
        from pipeline.cache import SummaryCache
        from pipeline.sources.enrich import Enricher
        from pipeline.sources.http import http_for
        from pipeline.sources.library.resolve import resolve_library

        store = SummaryCache(settings.cache_dir / "lookups")
        hub, arxiv = http_for(settings), http_for(settings, interval_s=settings.arxiv_interval_s)
        try:
            resolve_library(library, Enricher(store, hub=hub, arxiv=arxiv))
        finally:
            store.close()
            hub.close()
            arxiv.close()
    return library


def _zotero(settings: Any) -> Any:
    """The Zotero Web API reader, bounded and cached by the settings (`pipeline.sources.library.zotero`)."""
    from pipeline.sources.http import http_for
    from pipeline.sources.library.zotero import Zotero

    if settings is None:
        from pipeline.settings import Settings

        settings = Settings()
    return Zotero(
        http_for(settings),
        base=settings.zotero_api,
        cache_dir=settings.cache_dir,
        include=tuple(settings.zotero_collections),
        ignore=tuple(settings.zotero_ignore),
        max_pages=settings.fetch_max_pages,
    )


def interests_used(interests: Any, library: Any, ranked: Sequence[Ranked], chosen: Sequence[Ranked]) -> dict[str, Any]:
    """What run.json says about the ranking: which interests were used and how many papers passed."""
    return {
        "library": library.describe() if library is not None else None,
        "library_papers": len(library.positives) if library is not None else 0,
        "library_negatives": len(library.negatives) if library is not None else 0,
        "keywords": dict(interests.keywords),
        "authors": list(interests.authors),
        "exclude": list(interests.exclude),
        "top": interests.top,
        "threshold": interests.threshold,
        "judge": interests.rank_model,
        "ranked": len(ranked),
        "passed": len(chosen),
    }


def check_interests(settings: Any) -> None:
    """Before a run summarises anything: every library file is a readable regular file and the judge (when one
    is named) can be built (its extra installed, its key set), so a mistake costs nothing."""
    from pipeline.errors import InputError

    interests = settings.interests
    for path in interests.library:
        if str(path).lower().startswith("zotero:"):
            from pipeline.sources.library.zotero import parse_spec

            parse_spec(str(path))  # a malformed one fails before any work; the library is read when ranking
            continue
        if not Path(path).is_file():
            raise InputError("the library file does not exist or is not a regular file", path=str(path))
    if interests.rank_model and wanted(interests):
        from pipeline.rank.judge import Judge

        Judge(settings, interests.rank_model).close()


def wanted(interests: Any) -> bool:
    """Whether the reader gave anything to rank by."""
    return bool(interests.library or interests.keywords or interests.authors)


def print_ranking(ranked: Sequence[Ranked]) -> None:
    """Numbered lines for a terminal: score, title, then the reasons (untrusted text made terminal-safe)."""
    from rich.console import Console

    from pipeline.report import terminal_safe

    console = Console(highlight=False, soft_wrap=True)
    for n, item in enumerate(ranked, 1):
        console.print(
            f"{n:>3}. [bold]{item.score:5.1f}[/bold]  {terminal_safe(item.title)}  [dim]{terminal_safe(item.id)}[/dim]"
        )
        for reason in item.reasons:
            console.print(f"        [dim]{terminal_safe(reason)}[/dim]")


def profile_of(interests: Any, library: Any = None) -> Profile:
    """A ranker's profile from ``Settings.interests`` and the library read from its files (or None)."""
    positives = list(library.positives) if library is not None else []
    return Profile(
        positives=[e for e in positives if getattr(e, "format", "") != "feedback"],
        votes=[e for e in positives if getattr(e, "format", "") == "feedback"],
        negatives=list(library.negatives) if library is not None else [],
        keywords=dict(getattr(interests, "keywords", {}) or {}),
        authors=list(getattr(interests, "authors", []) or []),
        exclude=list(getattr(interests, "exclude", []) or []),
    )


def rank_papers(papers: Sequence[Any], profile: Profile, params: Params | None = None) -> list[Ranked]:
    """``papers`` best first; the same paper twice (same id) is ranked once."""
    seen: set[str] = set()
    unique = []
    for paper in papers:
        key = str(getattr(paper, "id", None) or (paper.get("id") if isinstance(paper, dict) else ""))
        if key not in seen:
            seen.add(key)
            unique.append(paper)
    return rank(unique, profile, params)


def select(ranked: Sequence[Ranked], top: int | None, threshold: float | None) -> list[Ranked]:
    """The digest: the best ``top`` papers, and only those scoring at least ``threshold`` when one is set."""
    chosen = [r for r in ranked if threshold is None or r.score >= threshold]
    return chosen[:top] if top is not None else chosen


def ranking_lines(ranked: Iterable[Ranked]) -> str:
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in ranked)


def write_ranking(path: Path, ranked: Iterable[Ranked]) -> None:
    """ranking.jsonl, written beside its name and renamed into place (never through a planted link)."""
    from pipeline.files import write_text_atomic

    write_text_atomic(path, ranking_lines(ranked))


def read_ranking(path: Path, limit: int = 1_000_000) -> list[dict[str, Any]]:
    """The objects of a ranking.jsonl, best first (lines that are not objects skipped); [] when there is none."""
    out: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if len(out) >= limit:
                    break
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    out.append(item)
    except (OSError, UnicodeDecodeError):
        return []
    return out

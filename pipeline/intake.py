"""A run's intake: the papers of its inputs in chunks (an input error or an oversized abstract goes to the
failures, each paper's place among them noted), one per id (`dedupe`), this shard's only (`shard_of`), and
--resolve / --full-text over them (`Enrichment`). `pipeline.run` drives them through the engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.cache import SummaryCache
from pipeline.dispatch import Failure
from pipeline.errors import FetchError, InputError
from pipeline.schema import Paper
from pipeline.settings import Settings


def shard_of(paper_id: str, shards: int) -> int:
    """The shard of a paper: the same on every machine and Python version (SHA-256 of the id, not hash())."""
    return int.from_bytes(hashlib.sha256(paper_id.encode("utf-8")).digest()[:8], "big") % shards


def dedupe(papers: Iterable[Paper]) -> tuple[list[Paper], int]:
    """One paper per id: the newest arXiv version, else the last one seen."""
    chosen: dict[str, Paper] = {}
    dropped = 0
    for paper in papers:
        old = chosen.get(paper.id)
        if old is not None:
            dropped += 1
            if old.version is not None and paper.version is not None and paper.version < old.version:
                continue
        chosen[paper.id] = paper
    return list(chosen.values()), dropped


CHUNK = 2000  # papers read, enriched and summarised at a time: memory stays flat however large the input
RAY_CHUNK = 50_000  # with --executor ray: each chunk starts a pool of engine actors, so chunks are larger


def chunks(
    items: Iterable[Paper | InputError], settings: Settings, fetch: Any, failures: list[Failure], size: int = CHUNK
) -> Iterator[list[Paper]]:
    """The usable papers of ``items`` in chunks; input errors go to ``failures``; a fetch that fails part-way
    keeps what arrived (the report says it failed). Each paper's 1-based place among them goes into its metadata
    (``position``), unless the source gave one."""
    chunk: list[Paper] = []
    position = 0
    try:
        for item in items:
            if isinstance(item, InputError):
                failures.append(
                    Failure(
                        id=f"{item.path}:{item.line}" if item.line else item.path,
                        stage="input",
                        error=item.reason,
                        source=item.path,
                        line=item.line,
                        title=item.title,
                    )
                )
            elif len(item.abstract) > settings.max_abstract_chars:
                failures.append(
                    Failure(
                        id=item.id,
                        stage="input",
                        source=item.source,
                        title=item.title,
                        error=f"abstract is {len(item.abstract):,} characters; the limit is "
                        f"{settings.max_abstract_chars:,} (setting max_abstract_chars)",
                    )
                )
            else:
                position += 1  # the source's order (a listing's trending rank): the tables' and the page's default
                item.meta.setdefault("position", position)
                chunk.append(item)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
    except FetchError as exc:
        if fetch is None:
            raise
        fetch.error = str(exc)
    if chunk:
        yield chunk


class Enrichment:
    """--resolve / --full-text over a run's chunks: one pair of polite HTTP clients, lookups cached beside the
    summaries (``<cache_dir>/lookups``), one report."""

    def __init__(self, settings: Settings) -> None:
        from pipeline.sources.enrich import Enricher
        from pipeline.sources.http import http_for

        self.settings = settings
        self.store = SummaryCache(settings.cache_dir / "lookups")
        self.hub = http_for(settings)
        self.arxiv = http_for(settings, interval_s=settings.arxiv_interval_s)
        self.enricher = Enricher(self.store, hub=self.hub, arxiv=self.arxiv)

    def enrich(self, papers: list[Paper]) -> tuple[list[Paper], dict[str, str]]:
        return self.enricher.enrich(papers, resolve=self.settings.resolve, full_text=self.settings.full_text)

    def close(self) -> dict[str, Any]:
        self.store.close()
        self.hub.close()
        self.arxiv.close()
        return self.enricher.report.to_json()

"""Which papers a digest delivers: the best ones new to this reader, from the ranking or, without one, the corpus.

Candidates come in the order of ``ranking.jsonl`` (best first, written by ``summarize run`` with interests), else
newest day first (publication date, else when the record was summarised), in the source's order within a day. A
paper an earlier digest delivered is "seen" and left out of "new for you" unless its arXiv version is newer. Only
the records a digest needs are kept while the corpus streams by, so a large corpus costs a few hundred records of
memory.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import rank
from pipeline.corpus import CORPUS_NAME
from pipeline.corpus.lines import MergeReport
from pipeline.deliver.state import State, split_version
from pipeline.errors import InputError
from pipeline.table import to_row

RANKING_NAME = rank.RANKING_FILE
MAX_RANKED = 200_000  # lines of ranking.jsonl read (best first); the rest cannot reach a digest
MAX_REASONS = 5


@dataclass(frozen=True)
class Item:
    """One paper of a digest: everything a message shows, as untrusted text (each renderer escapes it)."""

    id: str
    version: int | None
    title: str
    tldr: str
    key_result: str
    reasons: tuple[str, ...]
    score: float | None
    url: str | None
    links: tuple[tuple[str, str], ...]  # (kind, http(s) URL)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "tldr": self.tldr,
            "key_result": self.key_result,
            "reasons": list(self.reasons),
            "score": self.score,
            "url": self.url,
            "links": [{"kind": k, "url": u} for k, u in self.links],
        }


@dataclass
class Digest:
    id: str  # hash of the delivered ids and versions: the same papers are the same digest
    basis: str  # hash of the candidates it was chosen from: the same candidates choose the same digest
    items: list[Item]
    seen: list[Item]  # among the best candidates, those delivered before (shown as seen, not sent as new)
    ranked: bool
    candidates: int
    page_url: str | None = None  # where the whole page is published (site_url), linked at the end of each message

    @property
    def keys(self) -> list[tuple[str, int | None]]:
        return [(item.id, item.version) for item in self.items]


def _reasons(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(" ".join(str(r).split())[:300] for r in value[:MAX_REASONS] if str(r).strip())


def read_ranking(path: Path) -> list[dict[str, Any]]:
    """ranking.jsonl's entries, best first (read by the ranking stage's own reader): id without its arXiv version,
    score and reasons; the first of an id counts."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for obj in rank.read_ranking(path, limit=MAX_RANKED):
        paper_id, _ = split_version(obj["id"])
        if not paper_id or paper_id in seen:
            continue
        seen.add(paper_id)
        score = obj.get("score")
        entries.append(
            {
                "id": paper_id,
                "score": float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
                "reasons": _reasons(obj.get("reasons")),
            }
        )
    return entries


def _item(record: dict[str, Any], reasons: tuple[str, ...] = (), score: float | None = None) -> Item:
    row = to_row(record)
    meta = record.get("source_meta") or {}
    version = meta.get("version") if isinstance(meta, dict) else None
    url = row.url
    if url is None and row.id.startswith("arxiv:"):
        url = "https://arxiv.org/abs/" + row.id.removeprefix("arxiv:")
    return Item(
        id=row.id,
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        title=" ".join(row.title.split()),
        tldr=" ".join(str(record.get("tldr", "")).split()),
        key_result=" ".join(row.key_result.split()),
        reasons=reasons,
        score=score,
        url=url,
        links=tuple((k, u) for k, u in row.links if u != url),
    )


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode("utf-8")).hexdigest()[:16]


class _Best:
    """The ``size`` entries of highest order seen so far (a heap: memory stays at ``size``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.heap: list[tuple[Any, int, dict[str, Any], dict[str, Any]]] = []

    def add(self, order: Any, number: int, record: dict[str, Any], entry: dict[str, Any]) -> None:
        item = (order, number, record, entry)
        if len(self.heap) < self.size:
            heapq.heappush(self.heap, item)
        elif (order, number) > self.heap[0][:2]:
            heapq.heapreplace(self.heap, item)

    def best(self, *others: _Best) -> list[Item]:
        joined = sorted([*self.heap, *(e for o in others for e in o.heap)], key=lambda e: e[:2], reverse=True)
        return [_item(rec, entry.get("reasons", ()), entry.get("score")) for _, _, rec, entry in joined[: self.size]]


_MASK = 2**128 - 1
_NO_POSITION = 10**12
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _newest_first(record: dict[str, Any]) -> tuple[str, int]:
    """Without a ranking: the newest day first, and within a day the source's own order (a listing's trending
    rank, ``source_meta.position``); the corpus line breaks ties."""
    meta = record.get("source_meta") or {}
    position = meta.get("position") if isinstance(meta, dict) else None
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < _NO_POSITION:
        position = _NO_POSITION
    return _day(record), -position


def _day(record: dict[str, Any]) -> str:
    """The record's day, YYYY-MM-DD: its publication date, else when it was summarised ("" when neither is one)."""
    for value in (record.get("published"), (record.get("provenance") or {}).get("created_at")):
        text = str(value or "")[:10]
        if _DAY.fullmatch(text):
            return text
    return ""


def select(out_dir: Path, state: State, top: int) -> Digest:
    """The digest of ``out_dir``: the ``top`` best candidates new to the reader, and the seen ones among the best.

    The latest digest's own papers count as new again when it was chosen from the same candidates: running the
    digest twice chooses the same digest (and sends nothing twice) instead of the next ``top`` papers."""
    from pipeline.archive.store import has_corpus, read_lines  # corpus.jsonl or corpus/ partitions

    if not has_corpus(out_dir):
        raise InputError(f"no {CORPUS_NAME} in {out_dir}; run `summarize run ... --out {out_dir}` first")
    ranking_path = out_dir / RANKING_NAME
    ranking = read_ranking(ranking_path) if ranking_path.exists() else None
    position = {entry["id"]: n for n, entry in enumerate(ranking or [])}
    last = state.last()
    in_last = {(str(p[0]), p[1]) for p in (last or {}).get("papers", []) if isinstance(p, list) and len(p) == 2}
    new, again, old = _Best(top), _Best(top), _Best(top)
    versions: dict[str, int | None] = {}
    unordered = 0  # without a ranking: an order-free hash of every candidate (id, version)
    candidates = 0
    for line in read_lines(out_dir, MergeReport()):
        if line.obj is None:
            continue
        paper_id, suffix = split_version(line.id)
        version = line.version if line.version is not None else suffix
        if ranking is not None:
            if paper_id not in position:
                continue
            versions[paper_id] = version
            entry = ranking[position[paper_id]]
            order: Any = -position[paper_id]
        else:
            one = hashlib.sha256(f"{paper_id}\x00{version}".encode("utf-8", "surrogatepass")).digest()[:16]
            unordered = (unordered + int.from_bytes(one, "big")) & _MASK
            entry, order = {}, _newest_first(line.obj)
        candidates += 1
        heap = new if state.is_new(paper_id, version) else again if (paper_id, version) in in_last else old
        heap.add(order, -line.number, line.obj, entry)
    if ranking is not None:
        basis = _hash([[e["id"], versions[e["id"]]] for e in ranking if e["id"] in versions])
    else:
        basis = f"{unordered:032x}"[:16]
    if last is not None and last.get("basis") == basis:
        items, seen = new.best(again), old.best()
    else:
        items, seen = new.best(), old.best(again)
    digest_id = _hash([[i.id, i.version] for i in items])
    return Digest(digest_id, basis, items, seen, ranking is not None, candidates)

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
import math
import re
from dataclasses import dataclass, replace
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
    why: str = ""  # the top one or two reasons in one short line, no shares
    headline: str = ""  # the paper's own first score: "85.3% top-1 accuracy on ImageNet"
    earlier_version: int | None = None  # this is a newer arXiv version of a paper delivered as this version

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
            "why": self.why,
            "headline": self.headline,
            "earlier_version": self.earlier_version,
        }


@dataclass
class Digest:
    id: str  # hash of the delivered ids and versions: the same papers are the same digest
    basis: str  # hash of the candidates it was chosen from (order-free): the same candidates, the same top
    items: list[Item]  # the top papers with a channel left to carry them (no channel: not delivered before)
    seen: list[Item]  # among the best candidates, those delivered before (shown as seen, not sent as new)
    ranked: bool
    candidates: int
    page_url: str | None = None  # where the whole page is published (site_url), linked at the end of each message

    @property
    def keys(self) -> list[tuple[str, int | None]]:
        return [(item.id, item.version) for item in self.items]

    def only(self, items: list[Item]) -> Digest:
        """This digest holding only ``items`` (what one channel has not carried yet), with its own id."""
        return replace(self, id=digest_id(items), items=items)


def digest_id(items: list[Item]) -> str:
    return _hash([[i.id, i.version] for i in items])


def _reasons(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(" ".join(str(r).split())[:300] for r in value[:MAX_REASONS] if str(r).strip())


_SHARE = re.compile(r"\s*\(\d{1,3}(?:\.\d+)?%\)")  # "(90%)": a signal's share, for the page's fold only
_QUOTED = re.compile(r"“([^”]*)”")
WHY_LIMIT = 160


def _title_only(value: Any) -> set[str]:
    """Titles of the closest library papers that the ranking marks as having no abstract (``closest`` entries
    ``{"title", "has_abstract": false}``): a title alone says too little to name as the closest paper."""
    if not isinstance(value, list):
        return set()
    return {
        " ".join(str(c.get("title", "")).split())
        for c in value[:20]
        if isinstance(c, dict) and c.get("has_abstract") is False
    }


def _is_title_only(quoted: str, title_only: set[str]) -> bool:
    """Whether a title as a reason quotes it (cut short with "…" past 90 characters) is a title-only entry's."""
    if quoted.endswith("…"):
        return any(t.startswith(quoted[:-1]) for t in title_only)
    return quoted in title_only


def why_line(reasons: tuple[str, ...], title_only: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    """The top one or two reasons as one short line: no percentage shares, at most one library paper named (never
    a title-only one), at most WHY_LIMIT characters."""
    parts = []
    for reason in reasons[:2]:
        text = _SHARE.sub("", reason)
        lead, colon, named = text.partition(": “")
        if colon:
            titles = [t for t in _QUOTED.findall("“" + named) if not _is_title_only(t, title_only)]
            text = f"{lead}: “{titles[0]}”" if titles else lead
        if text.strip():
            parts.append(text.strip())
    line = "; ".join(parts)
    return line if len(line) <= WHY_LIMIT else line[: WHY_LIMIT - 1].rstrip() + "…"


def read_ranking(path: Path) -> list[dict[str, Any]]:
    """ranking.jsonl's entries, best first (read by the ranking stage's own reader): id without its arXiv version,
    score, reasons and the one-line why; the first of an id counts."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for obj in rank.read_ranking(path, limit=MAX_RANKED):
        paper_id, _ = split_version(obj["id"])
        if not paper_id or paper_id in seen:
            continue
        seen.add(paper_id)
        score = obj.get("score")
        reasons = _reasons(obj.get("reasons"))
        number = isinstance(score, int | float) and not isinstance(score, bool) and math.isfinite(score)
        entries.append(
            {
                "id": paper_id,
                "score": min(100.0, max(0.0, float(score))) if number else None,
                "reasons": reasons,
                "why": why_line(reasons, _title_only(obj.get("closest"))),
            }
        )
    return entries


_SCORE_PARTS = ("value", "metric", "dataset")


def headline(record: dict[str, Any]) -> str:
    """The paper's own first score, in words: "85.3% top-1 accuracy on ImageNet" ("" without one). Reads the
    record's ``scores`` (schema v3: ``{value, metric, dataset, own, …}``); older records have none."""
    scores = record.get("scores")
    for score in scores[:50] if isinstance(scores, list) else ():
        if not isinstance(score, dict) or score.get("own") is not True:
            continue
        value, metric, dataset = (" ".join(str(score.get(k) or "").split())[:80] for k in _SCORE_PARTS)
        if value:
            return f"{value} {metric}".strip() + (f" on {dataset}" if dataset else "")
    return ""


def _item(record: dict[str, Any], entry: dict[str, Any], earlier: int | None = None) -> Item:
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
        reasons=entry.get("reasons", ()),
        score=entry.get("score"),
        url=url,
        links=tuple((k, u) for k, u in row.links if u != url),
        why=entry.get("why", ""),
        headline=headline(record),
        earlier_version=earlier,
    )


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode("utf-8")).hexdigest()[:16]


class _Best:
    """The ``size`` entries of highest order seen so far (a heap: memory stays at ``size``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.heap: list[tuple[Any, int, dict[str, Any], dict[str, Any], int | None]] = []

    def add(self, order: Any, number: int, record: dict[str, Any], entry: dict[str, Any], earlier: int | None) -> None:
        item = (order, number, record, entry, earlier)
        if len(self.heap) < self.size:
            heapq.heappush(self.heap, item)
        elif (order, number) > self.heap[0][:2]:
            heapq.heapreplace(self.heap, item)

    def best(self, *others: _Best) -> list[tuple[Any, int, dict[str, Any], dict[str, Any], int | None]]:
        joined = sorted([*self.heap, *(e for o in others for e in o.heap)], key=lambda e: e[:2], reverse=True)
        return joined[: self.size]


def _items(entries: list[tuple[Any, int, dict[str, Any], dict[str, Any], int | None]]) -> list[Item]:
    return [_item(record, entry, earlier) for _, _, record, entry, earlier in entries]


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


def select(out_dir: Path, state: State, top: int, channels: list[str]) -> Digest:
    """The digest of ``out_dir``: among the ``top`` best candidates, those some channel has not carried yet.

    Exactly once: a paper a channel carried is never sent on it again (a newer arXiv version is, and says so).
    The top counts the papers delivered from these same candidates (an earlier digest today): ``--top 5`` then
    ``--top 3`` sends nothing the second time, then ``--top 8`` the three not yet sent. Papers delivered from
    other candidates (an earlier day) are out of the running, so each day's top is of what is still new."""
    from pipeline.archive.store import has_corpus, read_lines  # corpus.jsonl or corpus/ partitions

    if not has_corpus(out_dir):
        raise InputError(f"no {CORPUS_NAME} in {out_dir}; run `summarize run ... --out {out_dir}` first")
    ranking_path = out_dir / RANKING_NAME
    ranking = read_ranking(ranking_path) if ranking_path.exists() else None
    position = {entry["id"]: n for n, entry in enumerate(ranking or [])}
    latest = state.latest_basis()
    open_, today, earlier = _Best(top), _Best(top), _Best(top)  # not done; done from `latest`; done before that
    unordered = 0  # an order-free hash of every candidate (id, version): the basis
    candidates = 0
    for line in read_lines(out_dir, MergeReport()):
        if line.obj is None:
            continue
        paper_id, suffix = split_version(line.id)
        version = line.version if line.version is not None else suffix
        if ranking is not None:
            if paper_id not in position:
                continue
            entry, order = ranking[position[paper_id]], -position[paper_id]
        else:
            entry, order = {}, _newest_first(line.obj)
        one = hashlib.sha256(f"{paper_id}\x00{version}".encode("utf-8", "surrogatepass")).digest()[:16]
        unordered = (unordered + int.from_bytes(one, "big")) & _MASK
        candidates += 1
        if not state.done(paper_id, version, channels):
            heap = open_
        else:
            heap = today if latest is not None and state.basis_of(paper_id) == latest else earlier
        heap.add(order, -line.number, line.obj, entry, state.earlier_version(paper_id, version))
    basis = f"{unordered:032x}"[:16]
    if basis == latest:  # the same candidates as the last delivery: what it sent still holds its place
        picked = open_.best(today)
        items = _items([e for e in picked if any(e is o for o in open_.heap)])
    else:
        items = _items(open_.best())
    seen = _items(today.best(earlier))
    return Digest(digest_id(items), basis, items, seen, ranking is not None, candidates)

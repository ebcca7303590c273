"""Site search over every paper the archive holds: a static, sharded inverted index under ``archive/search/``
that the page's script (`pipeline/page_search.js`) queries over http(s), fetching only what a query needs.

Layout (docs/archive.md, "Search across the archive"):

```
archive/search/
  search.json               the manifest: segments (name, folder, docs, shards, chunk size), period kind
  2026-03.1a2b3c4d5e/       one segment: the papers first seen in one month (this year) or one year (before)
    t0.json … t<S-1>.json   term shards: {"term": "postings"}; a term lives in shard fnv1a(term) % S
    d0.json … d<C-1>.json   doc chunks of CHUNK papers: [{"i","t","p","d","l","a"}] (id, title, period, day, …)
    w<hex>.json             a common term's postings: {"term": "postings"}
```

Postings are the term's papers in doc order, delta-coded: each step ``(doc - previous) * 2 + in_title`` in hexadecimal,
comma-separated. A term in more than COMMON papers of one segment is ``"#<count>"`` in its shard and has its own
file ``w<fnv1a hex>.json``: a query fetches the rarest of those first, within a byte budget. A segment's folder
name carries a hash of its content, so a reader (or a cache) never mixes
an old manifest with new shards; a folder no manifest names (a crash) is removed by the next build.

Incremental: a run rebuilds only the segments holding a day it changed (today's month: at most a month of
papers, read from its partition); on the first run of a year the previous year's months are folded into one
year segment (once a year). A query reads the manifest, one shard per word per segment and the doc chunks of the
results it shows: bounded by the number of segments (years + this year's months), not by the corpus.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

import pipeline.archive.store as store
from pipeline.corpus import MergeReport
from pipeline.files import read_state, write_bytes_atomic

SEARCH_DIR = "search"
MANIFEST = "search.json"
VERSION = 2
CHUNK = 32  # papers per doc chunk: a result shown costs about 12 KB at most
SHARD_BYTES = 12 * 1024  # a segment's shard count aims at shards of this size on average
COMMON = 4096  # a term in more papers of a segment than this gets its own file (w<fnv1a hex>.json)
MAX_FILE = 5 * 2**20
MAX_MANIFEST = 4 * 2**20
MAX_MARKED = 20000  # ids a page lists with their first-seen day
STOP = frozenset(
    "a an and are as at be by for from has have in into is it its of on or our that the their this to we which "
    "with".split()
)
_WORD = re.compile(r"[^\W_]+")
_SEGMENT = re.compile(r"^\d{4}(-\d{2})?\.[0-9a-f]{10}$")


def words(text: str) -> list[str]:
    """Lower-cased words without accents, as the page's script splits a query (`page_search.js`: words)."""
    if text.isascii():
        folded = text.lower()
    else:
        folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return [w for w in _WORD.findall(folded) if w not in STOP and len(w) <= 40]


def fnv1a(term: str) -> int:
    """32-bit FNV-1a of the term's UTF-8 bytes (the script computes the same)."""
    h = 0x811C9DC5
    for byte in term.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def segment_of(day: str, this_year: str) -> str:
    """The segment of a first-seen day: its month in this year, its year before."""
    return day[:7] if day[:4] >= this_year else day[:4]


def _texts(value: Any) -> list[str]:
    return [str(x) for x in value] if isinstance(value, list) else []


def _scores(record: dict[str, Any]) -> list[str]:
    """A schema-v3 record's scores as text ("84.1 accuracy ImageNet"); none in older records."""
    out = []
    for item in record.get("scores") or []:
        if isinstance(item, dict):
            out.append(" ".join(str(item[k]) for k in ("value", "metric", "dataset", "split") if item.get(k)))
    return out


def fields_of(record: dict[str, Any]) -> tuple[str, str]:
    """The searchable text of a record: (title, everything else: authors, tldr, key result, tasks, datasets,
    metrics, scores)."""
    results = _texts(record.get("results"))
    rest = [*_texts(record.get("authors")), str(record.get("tldr") or ""), *results[:1]]
    rest += _texts(record.get("tasks")) + _texts(record.get("datasets")) + _texts(record.get("metrics"))
    return str(record.get("title") or ""), " ".join(rest + _scores(record))


def doc_of(record: dict[str, Any], day: str, period: str) -> dict[str, Any]:
    """What a result shows: id, title, period (its page), first-seen day, tldr, the first authors."""
    authors = _texts(record.get("authors"))
    return {
        "i": str(record.get("id", "")),
        "t": str(record.get("title") or "")[:300],
        "p": period,
        "d": day,
        "l": str(record.get("tldr") or "")[:240],
        "a": ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else ""),
    }


def encode(postings: array) -> str:
    """Postings (``doc * 2 + in_title``, doc ascending) delta-coded in hexadecimal, comma-separated."""
    previous, steps = -1, []
    for value in postings:
        doc = value >> 1
        steps.append(format((doc - previous) * 2 + (value & 1), "x"))
        previous = doc
    return ",".join(steps)


def build_segment(docs: list[tuple[dict[str, Any], str, str]]) -> dict[str, bytes]:
    """The files of one segment from its (doc, title, rest) triples in doc order: shards, common terms' own
    files, doc chunks."""
    postings: dict[str, array] = {}
    for number, (_doc, title, rest) in enumerate(docs):
        in_title = set(words(title))
        for term in in_title | set(words(rest)):
            postings.setdefault(term, array("I")).append(number * 2 + (term in in_title))
    encoded: dict[str, str] = {}
    common: dict[str, dict[str, str]] = {}
    for term, values in postings.items():
        if len(values) > COMMON:  # in its own file, fetched only when a query needs it: the shard says how many
            encoded[term] = f"#{len(values)}"
            common.setdefault(f"w{fnv1a(term):08x}.json", {})[term] = encode(values)
        else:
            encoded[term] = encode(values)
    size = sum(len(t) + len(p) + 6 for t, p in encoded.items())
    shards: list[dict[str, str]] = [{} for _ in range(max(1, -(-size // SHARD_BYTES)))]
    for term in sorted(encoded):
        shards[fnv1a(term) % len(shards)][term] = encoded[term]
    files = {f"t{k}.json": orjson.dumps(shard) for k, shard in enumerate(shards)}
    files.update({name: orjson.dumps(terms) for name, terms in common.items()})
    for k in range(0, len(docs), CHUNK):
        files[f"d{k // CHUNK}.json"] = orjson.dumps([doc for doc, _t, _r in docs[k : k + CHUNK]])
    too_big = [name for name, data in files.items() if len(data) > MAX_FILE]
    assert not too_big, f"search files over {MAX_FILE} bytes: {too_big}"  # a segment of ~1.5M papers at most
    return files


def _records(out_dir: Path, days: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(first-seen day, record) of every record first seen on one of ``days``, partition by partition; lines are
    parsed, not validated (what they show is escaped by the page)."""
    where = store.partition_dir(out_dir)
    for name in store.partitions(out_dir):
        if days.isdisjoint(store.days_of(name)):
            continue
        ids = {key: day for key, day in store.read_ids(where / f"{name}.ids").items() if day in days}
        if not ids:
            continue
        for line in store.light_scan(where / f"{name}.jsonl", MergeReport()):
            day = ids.get(line.id)
            if day is None:
                continue
            obj = line.obj if line.obj is not None else _parse(line.text)
            if isinstance(obj, dict):
                yield day, obj


def _parse(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _days_in(segment: str) -> set[str]:
    """Every calendar day of a segment (a month, or a year)."""
    if len(segment) == 7:
        return set(store.days_of(segment))
    return {day for month in range(1, 13) for day in store.days_of(f"{segment}-{month:02d}")}


def load_manifest(out_dir: Path) -> dict[str, Any]:
    try:
        data = read_state(out_dir / "archive" / SEARCH_DIR / MANIFEST, MAX_MANIFEST)
        found = json.loads(data) if data else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict) or found.get("version") != VERSION or not isinstance(found.get("segments"), list):
        return {}
    return found


def _known_days(out_dir: Path) -> set[str]:
    where = store.partition_dir(out_dir)
    found: set[str] = set()
    for name in store.partitions(out_dir):
        found |= set(store.read_ids(where / f"{name}.ids").values())
    return found


def update(out_dir: Path, days: Iterable[str], *, kind: str, period: Callable[[str], str], today: str) -> list[str]:
    """The search index brought up to date after a run that changed the papers first seen on ``days``: the
    segments holding them rebuilt, last year's months folded into one year segment, the manifest last. A manifest
    of another period kind or version (links would point at pages that no longer exist) rebuilds everything.
    Returns the segments written."""
    folder = out_dir / "archive" / SEARCH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(out_dir)
    year = today[:4]
    segments = {entry["name"]: entry for entry in manifest.get("segments", []) if isinstance(entry, dict)}
    changed = set(days)
    if manifest.get("period") != kind:
        segments, changed = {}, _known_days(out_dir)
    # a day of a year already folded (a backfill dated last year) rebuilds that year's segment, never a month beside it
    todo = {day[:4] if day[:4] in segments else segment_of(day, year) for day in changed}
    todo |= {name[:4] for name in segments if len(name) == 7 and name[:4] < year}  # a year ended: fold it
    for name in sorted(todo):
        for old in [n for n in segments if n == name or (len(name) == 4 and n[:4] == name)]:
            del segments[old]
        entry = _write_segment(folder, name, _records(out_dir, _days_in(name)), period)
        if entry is not None:
            segments[name] = entry
    manifest = {
        "version": VERSION,
        "period": kind,
        "records": sum(entry["docs"] for entry in segments.values()),
        "segments": [segments[name] for name in sorted(segments)],
    }
    write_bytes_atomic(folder / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
    _remove_unlisted(folder, {entry["dir"] for entry in manifest["segments"]})
    return sorted(todo)


def _write_segment(
    folder: Path, name: str, records: Iterator[tuple[str, dict[str, Any]]], period: Callable[[str], str]
) -> dict[str, Any] | None:
    docs = []
    for day, record in records:
        title, rest = fields_of(record)
        docs.append((doc_of(record, day, period(day)), title, rest))
    if not docs:
        return None
    docs.sort(key=lambda item: (item[0]["d"], item[0]["i"]))  # doc order: oldest first, so newest = highest
    files = build_segment(docs)
    hasher = hashlib.sha256()
    for file_name in sorted(files):
        hasher.update(file_name.encode() + b"\0" + files[file_name])
    target = folder / f"{name}.{hasher.hexdigest()[:10]}"
    if not target.is_dir():
        staging = folder / f".{target.name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for file_name, data in files.items():
            (staging / file_name).write_bytes(data)
        os.sync()  # every file on disk before the folder gets its name (one flush, not one per file)
        os.replace(staging, target)
    shards = sum(1 for n in files if n.startswith("t"))
    return {"name": name, "dir": target.name, "docs": len(docs), "shards": shards, "chunk": CHUNK}


def _remove_unlisted(folder: Path, keep: set[str]) -> None:
    """Segment folders no manifest names (replaced, or left by a crash) removed; nothing else is touched."""
    for entry in os.scandir(folder):
        stale = entry.name.startswith(".") and entry.name.endswith(".tmp")
        if entry.is_dir(follow_symlinks=False) and entry.name not in keep and (_SEGMENT.match(entry.name) or stale):
            shutil.rmtree(entry.path, ignore_errors=True)


def sizes(out_dir: Path) -> dict[str, int]:
    """Bytes and files of the index, and its largest file (the bench reports them)."""
    folder = out_dir / "archive" / SEARCH_DIR
    found = [p.stat().st_size for p in folder.rglob("*.json")]
    return {"files": len(found), "bytes": sum(found), "largest": max(found, default=0)}


def box(index_url: str, pages: str) -> str:
    """The search box of a page: ``index_url`` is where archive/search/ is from the page, ``pages`` where the
    period pages are (the results link there). The page's script (`page_search.js`) fills it."""
    return (
        f'<form id="site-search" role="search" data-index="{html.escape(index_url)}" data-pages="{html.escape(pages)}">'
        '<input id="site-q" type="search" placeholder="Search every day…" autocomplete="off" '
        'aria-label="Search every paper of the archive: titles, authors, tldr, results, tasks, datasets, metrics">'
        '<output id="site-note" aria-live="polite"></output><ol id="site-results"></ol></form>'
    )


def visit_tag(days: dict[str, list[str]], latest: str, kind: str) -> str:
    """What "new since your last visit" reads: the newest first-seen day of the site and each shown paper's
    first-seen day (the most common day as the default, the others by id; at most MAX_MARKED ids listed)."""
    common = max(days, key=lambda day: len(days[day]), default="")
    others = {day: ids for day, ids in days.items() if day != common}
    if sum(len(ids) for ids in others.values()) > MAX_MARKED:
        others = {}
    data = html.escape(json.dumps(others, separators=(",", ":"), sort_keys=True), quote=True)
    return (
        f'<span id="visit" hidden data-latest="{html.escape(max(latest, max(days, default="")))}" '
        f'data-day="{html.escape(common)}" data-kind="{html.escape(kind)}" data-days="{data}"></span>'
    )

"""The records of a corpus that carry scores, one per id, over either layout (corpus.jsonl, corpus/ partitions, or
both during a migration), read fast enough for a leaderboard of 100,000 records in well under two seconds.

Why not `pipeline.archive.store.read_lines`: it validates every record with pydantic (seconds at 100k) and merges
the files in id order. A leaderboard needs only the records with a non-empty ``scores`` list: a line without one
(``"scores":[]`` or no key) is passed over by a byte test and its id noted; only the others are parsed. Nothing
here trusts a field's type: `pipeline.leaderboard.board` checks each value it uses. An id found twice (a
migration half done, a hand-edited file) is settled exactly as every reader settles it (`corpus._best`), by a
second pass over those ids only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pipeline import corpus
from pipeline.archive import store
from pipeline.corpus.lines import Line
from pipeline.errors import CorpusError, NewerCorpusError
from pipeline.files import open_regular
from pipeline.schema import SCHEMA_VERSION

# How this tool writes a record's first two keys: the id without parsing the line.
_HEAD = re.compile(rb'^\{"schema_version":(\d+),"id":"((?:[^"\\]|\\.)*)"')


@dataclass
class Scored:
    """What the read found: the records with scores (id → record), lines passed over as not records."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: int = 0
    total: int = 0


def _has_scores(raw: bytes) -> bool:
    """Whether a line may hold a non-empty ``scores`` list (false only when it surely does not)."""
    if b'"scores":[{' in raw:
        return True
    return b'"scores"' in raw and b'"scores":[]' not in raw


def _lines(path: Path) -> Iterator[bytes]:
    try:
        handle = open_regular(path, follow=False)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read the corpus: {exc.strerror or exc}; move it aside") from exc
    with handle as fh:
        for raw in fh:
            if raw.strip():
                yield raw


def _newer(path: Path, version: object) -> None:
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise NewerCorpusError(
            f"{path}: a record of schema version {version}, newer than this summarize writes ({SCHEMA_VERSION}); "
            "upgrade summarize"
        )


def _parsed(raw: bytes) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(raw)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        return None
    return obj


def _id_of(raw: bytes, path: Path) -> str | None:
    """A line's id: from its head when this tool wrote it, else by parsing it (None: not a record)."""
    head = _HEAD.match(raw)
    if head and b"\\" not in head.group(2):
        _newer(path, int(head.group(1)))
        try:
            return head.group(2).decode("utf-8")
        except UnicodeDecodeError:
            return None
    obj = _parsed(raw)
    if obj is None:
        return None
    _newer(path, obj.get("schema_version"))
    return str(obj["id"])


def scored_records(folder: Path) -> Scored:
    """Every record of ``folder``'s corpus with a non-empty ``scores`` list, one per id."""
    found = Scored()
    seen: set[str] = set()
    twice: set[str] = set()
    paths = store.sources(folder)
    for path in paths:
        for raw in _lines(path):
            found.total += 1
            if not _has_scores(raw):
                key = _id_of(raw, path)
            else:
                obj = _parsed(raw)
                key = str(obj["id"]) if obj is not None else None
                if obj is not None:
                    _newer(path, obj.get("schema_version"))
                    scores = obj.get("scores")
                    if isinstance(scores, list) and scores and key not in seen:
                        found.records[key] = obj  # type: ignore[index]
            if key is None:
                found.skipped += 1
            elif key in seen:
                twice.add(key)
            else:
                seen.add(key)
    if twice:
        _settle(paths, twice, found)
    return found


def _settle(paths: list[Path], twice: set[str], found: Scored) -> None:
    """The ids found more than once: the line every reader keeps (`corpus._best`), scored or not."""
    best: dict[str, Line] = {}
    for path in paths:
        for raw in _lines(path):
            key = _id_of(raw, path)
            if key not in twice:
                continue
            obj = _parsed(raw)
            if obj is None:
                continue
            meta = obj.get("source_meta")
            version = meta.get("version") if isinstance(meta, dict) else None
            line = Line(key, raw.decode("utf-8", "replace").rstrip("\r\n"), version if _int(version) else None, obj)
            best[key] = corpus._best(best[key], line) if key in best else line
    for key, line in best.items():
        scores = (line.obj or {}).get("scores")
        if isinstance(scores, list) and scores:
            found.records[key] = line.obj  # type: ignore[assignment]
        else:
            found.records.pop(key, None)


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

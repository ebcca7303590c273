"""The records of a corpus that carry scores, one per id, over either layout (corpus.jsonl, corpus/ partitions, or
both during a migration), read fast enough for a leaderboard of 100,000 records in well under two seconds.

Why not `pipeline.archive.store.read_lines`: it validates every record with pydantic (seconds at 100k) and merges
the files in id order. A leaderboard needs only the records with a score it can rank: a line without scores
(``"scores":[]`` or no key) is passed over by a byte test and its id noted; a line with one ``"scores":[…]`` has
that list parsed alone (a few hundred bytes), and only when ``wanted`` finds a score in it is the whole line
parsed (the list is then read from the parsed record, never from the slice). Nothing here trusts a field's
type: ``wanted`` and `pipeline.leaderboard.board` check each value they use. An id found twice (a
migration half done, a hand-edited file) is settled exactly as every reader settles it (`corpus._best`), by a
second pass over those ids only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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
BLOCK = 8 * 2**20


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


def _scores_slice(raw: bytes) -> list[Any] | None:
    """The ``scores`` list of a line parsed alone, when the line holds exactly one ``"scores":`` key (None: parse
    the whole line). The list ends at the first ``}]`` after it: inside a string that cut leaves the string open
    and the slice fails to parse, so a slice that parses is the whole list."""
    start = raw.find(b'"scores":') + len(b'"scores":')
    if start < len(b'"scores":') or raw.find(b'"scores":', start) >= 0:
        return None
    if raw.startswith(b"[]", start):
        return []
    end = raw.find(b"}]", start)
    if end < 0:
        return None
    try:
        found = orjson.loads(raw[start : end + 2])
    except ValueError:
        return None
    return found if isinstance(found, list) else None


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


def scored_records(folder: Path, wanted: Callable[[list[Any]], bool] = bool, *, named: bool = False) -> Scored:
    """Every record of ``folder``'s corpus whose ``scores`` list ``wanted`` accepts, one per id (default: every
    record with a non-empty list). ``named``: ``wanted`` accepts only scores that name a dataset, so a line whose
    every ``"dataset"`` is ``""`` is passed over unparsed."""
    found = Scored()
    seen: set[bytes] = set()
    twice: set[bytes] = set()
    head = b'{"schema_version":%d,"id":"' % SCHEMA_VERSION
    start = len(head)
    paths = store.sources(folder)
    for path in paths:
        for block in _blocks(path):
            for raw in block.split(b"\n"):
                if not raw:
                    continue
                end = raw.find(b'"', start) if raw.startswith(head) else -1
                key = raw[start:end]
                if end < 0 or b"\\" in key:  # not as this tool writes a record: read on its own
                    _one(raw, path, found, seen, twice, wanted)
                    continue
                found.total += 1
                if key in seen:
                    twice.add(key)
                else:
                    seen.add(key)
                if b'"scores":' in raw and (b'"own":true' in raw or b'"own": true' in raw):
                    _take(raw, path, found, twice, wanted, named)
    if twice:
        _settle(paths, {key.decode("utf-8", "replace") for key in twice}, found, wanted)
    return found


def _blocks(path: Path) -> Iterator[bytes]:
    """The file in blocks of whole lines, about `BLOCK` bytes each."""
    try:
        handle = open_regular(path, follow=False)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read the corpus: {exc.strerror or exc}; move it aside") from exc
    with handle as fh:
        rest = b""
        while chunk := fh.read(BLOCK):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            rest = chunk[cut:]
            if cut:
                yield chunk[:cut]
        if rest:
            yield rest


def _take(
    raw: bytes,
    path: Path,
    found: Scored,
    twice: set[bytes],
    wanted: Callable[[list[Any]], bool],
    named: bool = False,
) -> None:
    """A line that holds ``"scores":``: kept when its list has a score ``wanted`` accepts (an id seen twice is
    settled later)."""
    datasets = raw.count(b'"dataset":') if named else 0
    if datasets and raw.count(b'"dataset":""') == datasets:
        return  # no score names a dataset (three in four of the labelled ones do not): none can rank
    alone = _scores_slice(raw)
    if alone is not None and not (alone and wanted(alone)):
        return
    obj = _parsed(raw)
    if obj is None:
        return
    _newer(path, obj.get("schema_version"))
    scores = obj.get("scores")
    key = str(obj["id"])
    if isinstance(scores, list) and scores and wanted(scores) and key.encode() not in twice:
        found.records.setdefault(key, obj)


def _one(
    raw: bytes,
    path: Path,
    found: Scored,
    seen: set[bytes],
    twice: set[bytes],
    wanted: Callable[[list[Any]], bool],
) -> None:
    """A line read on its own (a block held a line this tool did not write): its id noted, kept if wanted."""
    if raw.isspace():
        return
    found.total += 1
    key = _id_of(raw, path)
    if key is None:
        found.skipped += 1
        return
    encoded = key.encode("utf-8", "surrogatepass")
    if encoded in seen:
        twice.add(encoded)
        return
    seen.add(encoded)
    if _has_scores(raw):
        _take(raw, path, found, twice, wanted)


def _settle(paths: list[Path], twice: set[str], found: Scored, wanted: Callable[[list[Any]], bool]) -> None:
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
        if isinstance(scores, list) and scores and wanted(scores):
            found.records[key] = line.obj  # type: ignore[assignment]
        else:
            found.records.pop(key, None)


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

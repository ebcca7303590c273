"""The partitioned corpus: ``corpus/YYYY-MM.jsonl`` by the month a paper was first seen, ``corpus/YYYY-MM.ids`` (one
``id<TAB>first-seen day`` line per record) and ``corpus/manifest.json`` (partitions, counts, bytes, sha256).

Why first-seen month and not the arXiv id's month: most records of a daily Hub listing have no arXiv id
(``title:…``) and no published date, and a paper first seen today lands in today's partition whatever its id, so
a daily run appends to one partition; a record never moves (an update is rewritten where it lives), so a crash
between two partition writes can never leave one paper in two partitions.

Writing it (the upsert, the partition rewrite, the manifest, the migration from and back to one corpus.jsonl) is
`write`'s; this module is the layout and its reading: the partitions on disk, their lines, ids files and manifest.
"""

from __future__ import annotations

import heapq
import json
import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from pipeline import corpus
from pipeline.corpus import Line, MergeReport, Spool
from pipeline.errors import CorpusError, NewerCorpusError
from pipeline.files import open_regular, read_state
from pipeline.schema import SCHEMA_VERSION

CORPUS_DIR = "corpus"
MANIFEST = "manifest.json"
LAYOUT_VERSION = 1
MAX_MANIFEST_BYTES = 16 * 2**20
_PARTITION = re.compile(r"^\d{4}-(\d{2}|W\d{2})\.jsonl$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def partition_dir(folder: Path) -> Path:
    return folder / CORPUS_DIR


def partition_of(day: str, unit: str = "month") -> str:
    """The partition a paper first seen on ``day`` (YYYY-MM-DD) lives in: its month (``2026-03``) or, with
    ``corpus_partition = "week"``, its ISO week (``2026-W11``)."""
    if unit == "week":
        year, week, _ = date.fromisoformat(day).isocalendar()
        return f"{year}-W{week:02d}"
    return day[:7]


def days_of(name: str) -> list[str]:
    """The days a partition (a month or an ISO week) can hold."""
    if "W" in name:
        monday = date.fromisocalendar(int(name[:4]), int(name[6:]), 1)
        return [(monday + timedelta(days=n)).isoformat() for n in range(7)]
    first = date(int(name[:4]), int(name[5:7]), 1)
    return [
        (first + timedelta(days=n)).isoformat() for n in range(31) if (first + timedelta(days=n)).month == first.month
    ]


def partitions(folder: Path) -> list[str]:
    """The partition names (``YYYY-MM``) on disk, oldest first; links and non-files are not ours and ignored."""
    where = partition_dir(folder)
    try:
        entries = list(os.scandir(where))
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = []
    for entry in entries:
        if _PARTITION.match(entry.name) and entry.is_file(follow_symlinks=False):
            names.append(entry.name[: -len(".jsonl")])
    return sorted(names)


def is_partitioned(folder: Path) -> bool:
    return bool(partitions(folder)) or (partition_dir(folder) / MANIFEST).exists()


def files_of(folder: Path) -> list[Path]:
    """A folder's corpus files: its partitions (``corpus/YYYY-MM.jsonl``), then its corpus.jsonl (which
    `corpus.scan` skips when missing)."""
    return [partition_dir(folder) / f"{name}.jsonl" for name in partitions(folder)] + [folder / corpus.CORPUS_NAME]


def sources(folder: Path) -> list[Path]:
    """Every corpus file of ``folder``: its partitions and, when there is one, its single corpus.jsonl."""
    found = files_of(folder)
    single = found[-1]
    return found if single.exists() or single.is_symlink() else found[:-1]


def has_corpus(folder: Path) -> bool:
    return bool(sources(folder))


def read_lines(folder: Path, report: MergeReport | None = None) -> Iterator[Line]:
    """Every record of ``folder``'s corpus (single, partitioned, or both during a migration), one per id, in id
    order, streamed (memory flat). A file not sorted by id (edited by hand) is sorted through a spool."""
    report = report if report is not None else MergeReport()
    spools: list[Spool] = []
    streams: list[Iterator[Line]] = []
    try:
        for path in sources(folder):
            if _sorted(path):
                streams.append(corpus.scan(path, report))
            else:
                spool = Spool(folder)
                spools.append(spool)
                for line in corpus.scan(path, MergeReport()):
                    spool.add(line)
                streams.append(iter(spool.lines(keep="first", report=report)))
        yield from corpus._one_per_id(heapq.merge(*streams, key=lambda line: line.id), corpus._best)
    finally:
        for spool in spools:
            spool.close()


def _sorted(path: Path) -> bool:
    """Whether a corpus file's ids ascend (a cheap pass over the id field, no validation)."""
    previous = ""
    try:
        handle = open_regular(path, follow=False)
    except OSError:
        return True  # `scan` says why, by name
    with handle as fh:
        for raw in fh:
            try:
                found = orjson.loads(raw).get("id")
            except (ValueError, AttributeError):
                continue
            if isinstance(found, str):
                if found < previous:
                    return False
                previous = found
    return True


def read_ids(path: Path) -> dict[str, str]:
    """A partition's ids file: id → first-seen day (empty when missing)."""
    try:
        handle = open_regular(path, follow=False)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read: {exc.strerror or exc}; move it aside") from exc
    out: dict[str, str] = {}
    with handle as fh:
        for raw in fh:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            key, tab, day = text.rpartition("\t")
            if tab and key and DAY.match(day):
                out[key] = day
    return out


_CANONICAL = re.compile(rb'^\{"schema_version":(\d+),"id":"((?:[^"\\\\]|\\\\.)*)"')


def light_scan(path: Path, report: MergeReport) -> Iterator[Line]:
    """A partition's lines with their ids, read without validating each record: a line as this code writes it
    (``{"schema_version":N,"id":"…"`` first) gives its id by a regular expression and is copied as it is;
    any other line goes through `corpus.scan`'s full check (an invalid one to the report). Rewriting a month's
    partition then costs a read and a write, not a validation of every record (readers validate what they read).
    The arXiv version is not known (None): `resolve` parses a line when an upsert meets its id."""
    try:
        handle = open_regular(path, follow=False)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read the corpus: {exc.strerror or exc}; move it aside") from exc
    with handle as fh:
        for number, raw in enumerate(fh, start=1):
            found = _CANONICAL.match(raw)
            if found and int(found.group(1)) == SCHEMA_VERSION and b"\\" not in found.group(2):
                try:
                    text = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    found = None
                else:
                    yield Line(found.group(2).decode("utf-8"), text, None, None, number)
                    continue
            yield from _checked(raw, number, path, report)


def _checked(raw: bytes, number: int, path: Path, report: MergeReport) -> Iterator[Line]:
    """One line through `corpus.scan`'s rules (its own one-line file would lose the line number)."""
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
        if not text.strip():
            return
        line = corpus._parse(text)
        line.number = number
        yield line
    except corpus._Newer as exc:
        raise NewerCorpusError(
            f"{path}:{number}: a record of schema version {exc}, newer than this summarize writes "
            f"({SCHEMA_VERSION}); upgrade summarize"
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        report.invalid_lines.append({"line": number, "error": str(exc)[:200], "text": text})


def resolve(line: Line) -> Line:
    """A line read by `light_scan` parsed and checked (its version known), when an upsert needs to compare it."""
    if line.obj is not None:
        return line
    try:
        full = corpus._parse(line.text)
    except ValueError:  # not a valid record after all: version unknown, so a valid new one replaces it
        return line
    full.number = line.number
    return full


def load_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = read_state(partition_dir(folder) / MANIFEST, MAX_MANIFEST_BYTES)
        found = json.loads(data) if data else {}
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) and isinstance(found.get("partitions"), dict) else {}

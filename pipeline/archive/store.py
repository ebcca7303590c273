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
import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from pipeline import corpus
from pipeline.corpus import Line, MergeReport, Spool
from pipeline.errors import CorpusError, NewerCorpusError
from pipeline.files import StateError, open_regular, read_json_state
from pipeline.schema import SCHEMA_VERSION

CORPUS_DIR = "corpus"
MANIFEST = "manifest.json"
LAYOUT_VERSION = 1
MAX_MANIFEST_BYTES = 16 * 2**20
_PARTITION = re.compile(r"^\d{4}-(\d{2}|W\d{2})\.jsonl$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def real_day(text: str) -> bool:
    """``YYYY-MM-DD`` naming a day of the calendar (``2026-13-45`` is none)."""
    if not DAY.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def partition_dir(folder: Path) -> Path:
    return folder / CORPUS_DIR


def partition_of(day: str, unit: str = "month") -> str:
    """The partition a paper first seen on ``day`` (YYYY-MM-DD) lives in: its month (``2026-03``) or, with
    ``corpus_partition = "week"``, its ISO week (``2026-W11``)."""
    if unit == "week":
        year, week, _ = date.fromisoformat(day).isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day[:7]


def days_of(name: str) -> list[str]:
    """The days a partition (a month or an ISO week) can hold, within the calendar (the last ISO week of year
    9999 stops at 9999-12-31). A ValueError for a name that is no month or week (`valid_partition`)."""
    if "W" in name:
        first = date.fromisocalendar(int(name[:4]), int(name[6:]), 1)
    else:
        first = date(int(name[:4]), int(name[5:7]), 1)
    days = []
    for n in range(7 if "W" in name else 31):
        if (date.max - first).days < n:
            break
        day = first + timedelta(days=n)
        if day.month != first.month and "W" not in name:
            break
        days.append(day.isoformat())
    return days


def valid_partition(name: str) -> bool:
    """The one rule for a partition's name (``YYYY-MM`` or ``YYYY-Www``, without ``.jsonl``): a month or ISO week
    of the calendar (``2026-13``, ``0000-01`` and ``2026-W99`` are not)."""
    if not _PARTITION.match(f"{name}.jsonl"):
        return False
    try:
        return bool(days_of(name))
    except ValueError:
        return False


def _scan(folder: Path) -> tuple[list[str], list[str]]:
    """The partitions on disk and the files named like one whose date is impossible; links and non-files are not
    ours and ignored."""
    try:
        entries = list(os.scandir(partition_dir(folder)))
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    names, strays = [], []
    for entry in entries:
        if _PARTITION.match(entry.name) and entry.is_file(follow_symlinks=False):
            name = entry.name[: -len(".jsonl")]
            (names if valid_partition(name) else strays).append(name)
    return sorted(names), sorted(strays)


def partitions(folder: Path) -> list[str]:
    """The partition names (``YYYY-MM`` or ``YYYY-Www``) on disk, oldest first. A file named like one with an
    impossible date is no partition: every reader skips it (`stray_warnings` says so)."""
    return _scan(folder)[0]


def stray_warnings(folder: Path) -> list[str]:
    """One warning per file of ``folder``'s corpus/ named like a partition with an impossible date: skipped."""
    return [
        f"{partition_dir(folder) / name}.jsonl: not a month or week of the calendar, so not a partition: skipped "
        "(rename or remove it)"
        for name in _scan(folder)[1]
    ]


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
            if tab and key and real_day(day):
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


class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow")
    file: str = ""
    records: int = Field(default=0, ge=0)
    bytes: int = Field(default=-1, ge=-1)
    sha256: str = ""


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="allow")
    partitions: dict[str, _Entry]


def load_manifest(folder: Path) -> dict[str, Any]:
    """The manifest read through `read_json_state` (bounded, depth, types); empty when missing or unusable, and
    the next write rebuilds it from the partitions on disk."""
    try:
        found = read_json_state(partition_dir(folder) / MANIFEST, MAX_MANIFEST_BYTES, _Manifest)
    except StateError:
        return {}
    return found.model_dump() if found is not None else {}

"""Reading a reader's library files: each opened with bounds, its format told apart, its entries merged by paper."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import cast

from pipeline.errors import InputError
from pipeline.sources.files import read_csv, read_jsonl
from pipeline.sources.identity import title_key
from pipeline.sources.library.bibtex import read_bibtex
from pipeline.sources.library.jsonfmt import kind, make_entry, parse, read_csl, read_feedback, read_paper_array
from pipeline.sources.library.model import (
    MAX_MERGES,
    Library,
    LibraryEntry,
    LibraryFile,
    Limits,
    Vote,
    split_keywords,
)
from pipeline.sources.library.ris import read_ris

LIBRARY_FORMATS = ("bibtex", "ris", "csl-json", "feedback", "json", "jsonl", "csv")
_EXTENSIONS = {
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ris": "ris",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".json": "json",  # CSL-JSON, a feedback export or a paper list: told apart by their content
}
_BIBTEX_START = re.compile(rb"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE)
_RIS_START = re.compile(rb"^TY  - ", re.MULTILINE)
_BIBTEX_BLOCK = re.compile(r"^\s*@", re.MULTILINE)

Found = LibraryEntry | InputError
Remote = Callable[[str], tuple[str, Iterator[Found]]]  # a library that is no file (zotero:…): its format, entries


def read_file(path: str, max_bytes: int) -> bytes:
    """A library file's bytes: a regular file (never a pipe or a device) of at most ``max_bytes``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"cannot read the library file: {exc.strerror}", path=path) from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise InputError("is a folder; give the library file itself", path=path)
        raise InputError("not a regular file (a pipe or a device); give a library file", path=path)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"cannot read the library file: {exc.strerror}", path=path) from exc
    if len(data) > max_bytes:
        raise InputError(f"larger than {max_bytes // (1024 * 1024):,} MB, the most a library file may be", path=path)
    return data.removeprefix(b"\xef\xbb\xbf")


def _text(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 (byte {exc.start + 1}); export it as UTF-8", path=path, line=line) from exc


def _one_object(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data), dict)
    except (ValueError, RecursionError):
        return False


def detect(path: str, data: bytes) -> str:
    """The file's format: by its extension, else by its content; JSON files by what they hold."""
    fmt = _EXTENSIONS.get(Path(path).suffix.lower())
    head = data[:65536]
    if fmt is None:
        start = head.lstrip()[:1]
        if _BIBTEX_START.search(head):
            fmt = "bibtex"
        elif _RIS_START.search(head):
            fmt = "ris"
        elif start == b"[":
            fmt = "json"
        elif start == b"{":  # one object in the whole file (a feedback export), else one per line
            fmt = "json" if _one_object(data) else "jsonl"
        elif b"title" in head.split(b"\n", 1)[0].lower():
            fmt = "csv"
        else:
            raise InputError("not a library format this reads: " + ", ".join(LIBRARY_FORMATS), path=path)
    return fmt


def _entries(path: str, data: bytes, fmt: str | None, limits: Limits) -> tuple[str, Iterator[Found]]:
    """The format and the entries (or problems) of one file."""
    fmt = fmt or detect(path, data)
    if fmt in ("jsonl", "csv"):
        make = partial(make_entry, fmt=fmt)
        items = (
            read_jsonl(data, path, make=make)
            if fmt == "jsonl"
            else read_csv(data, path, make=make, required=("title",))
        )
        return fmt, cast(Iterator[Found], items)
    text = _text(data, path)
    if fmt == "bibtex":
        # bibtexparser reads the whole file before the first entry comes back (~0.1 ms a block): a file of more
        # blocks than a library may hold is refused before that, not read for minutes.
        blocks = len(_BIBTEX_BLOCK.findall(text))
        if blocks > limits.max_entries:
            raise InputError(
                f"{blocks:,} BibTeX blocks, more than the {limits.max_entries:,} entries a library may hold", path=path
            )
        return fmt, read_bibtex(text, path)
    if fmt == "ris":
        return fmt, read_ris(text, path)
    if fmt not in ("json", "csl-json", "feedback"):
        raise InputError(f"unknown library format {fmt!r}; choose one of {', '.join(LIBRARY_FORMATS)}", path=path)
    found = kind(parse(text, path))
    if found is None:
        raise InputError("a JSON library is an array of papers (CSL-JSON or ours) or a feedback export", path=path)
    readers = {"feedback": read_feedback, "csl-json": read_csl, "json": read_paper_array}
    return found, readers[found](text, path)


_ID_STRENGTH = ("arxiv:", "doi:")


def _strength(pid: str) -> int:
    return next(
        (i for i, prefix in enumerate(_ID_STRENGTH) if pid.startswith(prefix)), 3 if pid.startswith("title:") else 2
    )


def _vote(old: LibraryEntry, new: LibraryEntry) -> Vote:
    """A vote from the page beats being in a library; of two votes (or two libraries), the later one counts."""
    if (old.format == "feedback") != (new.format == "feedback"):
        return old.vote if old.format == "feedback" else new.vote
    return old.vote if old.added and new.added and old.added > new.added else new.vote


def _merged(old: LibraryEntry, new: LibraryEntry) -> LibraryEntry:
    """One entry for a paper met twice: the strongest id, what either knows, the vote that counts, the latest
    date."""
    dates = [d for d in (old.added, new.added) if d is not None]
    return old.model_copy(
        update={
            "id": min(old.id, new.id, key=_strength),
            "abstract": max(old.abstract, new.abstract, key=len),
            "authors": old.authors or new.authors,
            "year": old.year or new.year,
            "published": old.published or new.published,
            "added": max(dates) if dates else None,
            "keywords": split_keywords(old.keywords, new.keywords),
            "vote": _vote(old, new),
            "url": old.url or new.url,
            "doi": old.doi or new.doi,
        }
    )


def _surnames(entry: LibraryEntry) -> set[str]:
    return {title_key(name).rpartition(" ")[2] for name in entry.authors if title_key(name)}


def distinct(old: LibraryEntry, new: LibraryEntry) -> str | None:
    """What tells two entries of one title apart (None: nothing does, they are one work): within one file, the
    manager's own item keys or item types; anywhere, the volume, years more than two apart (a preprint and its
    journal version are one work), or authors with no surname in common."""
    if old.source_file == new.source_file:
        if old.item_key and new.item_key and old.item_key != new.item_key:
            return "item key"
        if old.kind and new.kind and old.kind != new.kind:
            return "type"
    if old.volume and new.volume and old.volume != new.volume:
        return "volume"
    if old.year and new.year and abs(old.year - new.year) > 2:
        return "year"
    if old.authors and new.authors and not _surnames(old) & _surnames(new):
        return "authors"
    return None


class _Collector:
    """Entries, one per paper, and bounded problems. Two entries are one paper when they share an arXiv id or a
    DOI, or a title when one of them has no stronger id and nothing else tells them apart (`distinct`); every merge
    is listed (`Library.merges`)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.library = Library()
        self._by_id: dict[str, int] = {}  # arXiv ids, DOIs, given ids: never title hashes
        self._by_title: dict[str, list[int]] = {}

    def problem(self, error: InputError) -> None:
        if len(self.library.problems) < self.limits.max_problems:
            self.library.problems.append(error)
        else:
            self.library.problems_left_out += 1

    def _same_title(self, entry: LibraryEntry, key: str) -> int | None:
        for at in self._by_title.get(key, []):
            other = self.library.entries[at]
            weak = other.id.startswith("title:") or entry.id.startswith("title:")
            if weak and distinct(other, entry) is None:
                return at
        return None

    def add(self, entry: LibraryEntry) -> bool | None:
        """Keep ``entry``: True when it is a new paper, None when it was merged into one, False when the library is
        full."""
        entries = self.library.entries
        key = title_key(entry.title)
        strong = not entry.id.startswith("title:")
        at = self._by_id.get(entry.id) if strong else None
        by = "id"
        if at is None:
            at, by = self._same_title(entry, key), "title"
        if at is None:
            if len(entries) >= self.limits.max_entries:
                return False
            at = len(entries)
            entries.append(entry)
            merged = False
        else:
            self._note(entries[at], entry, by)
            entries[at] = _merged(entries[at], entry)
            merged = True
        for pid in (entries[at].id, entry.id):
            if not pid.startswith("title:"):
                self._by_id.setdefault(pid, at)
        places = self._by_title.setdefault(key, [])
        if at not in places:
            places.append(at)
        return None if merged else True

    def _note(self, kept: LibraryEntry, merged: LibraryEntry, by: str) -> None:
        merges = self.library.merges
        if len(merges) < MAX_MERGES:
            merges.append(
                {
                    "kept": f"{kept.source_file}:{kept.line}" if kept.line else kept.source_file,
                    "merged": f"{merged.source_file}:{merged.line}" if merged.line else merged.source_file,
                    "by": by,
                    "title": merged.title[:200],
                }
            )


def merge_entries(entries: Iterable[LibraryEntry]) -> list[LibraryEntry]:
    """``entries`` with each paper once (after resolving gave two of them the same arXiv id)."""
    collector = _Collector(Limits(max_entries=2**62))
    for entry in entries:
        collector.add(entry)
    return collector.library.entries


def read_library(
    paths: Iterable[str | Path], *, limits: Limits | None = None, fmt: str | None = None, remote: Remote | None = None
) -> Library:
    """Every entry of the library files, one per paper, and every problem met (file and line).

    A file that cannot be read at all (missing, a folder, too large, not UTF-8, not a library format) raises
    `InputError` naming it; a bad entry is a problem and the rest are read. A name such as ``zotero:123`` is read
    by ``remote`` (`pipeline.sources.library.zotero`), which the caller builds from its settings.
    """
    collector = _Collector(limits or Limits())
    for name in paths:
        path = str(name)
        if path.lower().startswith("zotero:"):
            if remote is None:
                raise InputError("a Zotero library is read by summarize rank/run (it needs their settings)", path=path)
            found, items = remote(path)
        else:
            data = read_file(path, collector.limits.max_bytes)
            found, items = _entries(path, data, fmt, collector.limits)
        record = LibraryFile(path=path, format=found)
        collector.library.files.append(record)
        for item in items:
            if isinstance(item, InputError):
                record.problems += 1
                record.untitled += item.reason == "missing title"
                collector.problem(item)
                continue
            added = collector.add(item)
            if added is not False:
                record.entries += 1
                record.merged += added is None
            else:
                collector.problem(
                    InputError(
                        f"the library is full ({collector.limits.max_entries:,} entries); the rest is left out",
                        path=path,
                    )
                )
                return collector.library
        if record.entries == 0 and found != "feedback":
            collector.problem(InputError(f"no library entries found (read as {found})", path=path))
    return collector.library

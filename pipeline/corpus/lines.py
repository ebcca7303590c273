"""A corpus line: parsed and validated (or trusted under the seal this tool leaves beside a corpus it wrote),
read from a file in order by `scan`, with the merge report that counts what happened to it.

`pipeline.corpus` merges and writes these; `pipeline.corpus.spool` sorts them in bounded memory.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pipeline.errors import CorpusError, NewerCorpusError
from pipeline.files import open_regular, read_regular, write_text_atomic
from pipeline.schema import READABLE_VERSIONS, SCHEMA_VERSION, Record


@dataclass
class MergeReport:
    total: int = 0
    added: int = 0
    replaced: int = 0  # records whose text changed
    unchanged: int = 0  # records this run wrote again exactly as they were
    kept_newer: int = 0
    superseded: int = 0  # records of papers now known by another id (a title resolved to its arXiv id)
    invalid_lines: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # state files and names read around the corpus, skipped


@dataclass(slots=True)
class Line:
    id: str
    text: str
    version: int | None
    obj: dict[str, Any] | None  # parsed when already at hand; new lines are parsed only when written
    number: int = 0  # line number in the existing corpus (0: a record of this run)


def _parse(text: str, validate: bool = True) -> Line:
    obj = orjson.loads(text)
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        raise ValueError("not a record object with an id")
    found = obj.get("schema_version")
    if isinstance(found, int) and found > SCHEMA_VERSION:
        raise _Newer(found)
    if found not in READABLE_VERSIONS:
        raise ValueError(f"schema_version {obj.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    if found != SCHEMA_VERSION:  # an older record: upgraded, and written back in this version
        obj = Record.upgrade(obj)
        text = orjson.dumps(obj).decode()
    # Validated as a whole, as a run's own records are: a line of wrongly typed fields ("links": [1, 2]) would
    # crash every writer that reads it, on every run, so it goes aside like any other bad line.
    # (Skipped only for a corpus this tool wrote and sealed, untouched since: `_sealed`.)
    if validate:
        record = Record.model_validate(obj)
        if record.published != obj.get("published"):  # a date outside what the writers can represent: dropped
            obj = {**obj, "published": record.published}
            text = orjson.dumps(obj).decode()
    meta = obj.get("source_meta") or {}
    version = meta.get("version") if isinstance(meta, dict) else None
    return Line(obj["id"], text, version if isinstance(version, int) else None, obj)


SEAL_NAME = ".corpus.sealed"  # beside a corpus this tool wrote: its size, time and inode when written


def _identity(info: os.stat_result) -> dict[str, int]:
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "ino": info.st_ino, "dev": info.st_dev}


def _seal(path: Path) -> None:
    """Note that ``path`` was just written by this tool, every line validated (validating 100,000 lines again on
    every run would cost seconds). Any later change to the file (an edit, an append) breaks the seal."""
    with contextlib.suppress(OSError):
        seal = {**_identity(os.stat(path, follow_symlinks=False)), "schema_version": SCHEMA_VERSION}
        write_text_atomic(path.parent / SEAL_NAME, json.dumps(seal) + "\n")


def _sealed(path: Path, fh: Any) -> bool:
    """Whether the open corpus ``fh`` is the file this tool last wrote at ``path``, unchanged since."""
    try:
        seal = orjson.loads(read_regular(path.parent / SEAL_NAME, limit=4096, follow=False))
        return isinstance(seal, dict) and seal == {**_identity(os.fstat(fh.fileno())), "schema_version": SCHEMA_VERSION}
    except (OSError, ValueError):
        return False


class _Newer(Exception):
    """A record of a newer schema version than this code writes."""


def scan(path: Path, report: MergeReport) -> Iterator[Line]:
    """Valid lines of an existing corpus in file order; invalid ones go to the report (kept whole)."""
    if not path.exists() and not path.is_symlink():
        return
    try:
        handle = open_regular(path, follow=False)  # a link planted here could copy a private file aside
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read the corpus: {exc.strerror or exc}; move it aside") from exc
    with handle as fh:
        validate = not _sealed(path, fh)
        for number, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
                if not text.strip():
                    continue
                line = _parse(text, validate)
                line.number = number
                yield line
            except _Newer as exc:
                raise NewerCorpusError(
                    f"{path}:{number}: a record of schema version {exc}, newer than this summarize writes "
                    f"({SCHEMA_VERSION}); upgrade summarize, or write to another --out"
                ) from None
            except (UnicodeDecodeError, ValueError) as exc:  # orjson.JSONDecodeError is a ValueError
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                report.invalid_lines.append({"line": number, "error": str(exc)[:200], "text": text})


def _duplicate(line: Line, report: MergeReport) -> None:
    report.invalid_lines.append(
        {"line": line.number, "error": f"duplicate id {line.id} (an earlier line has it; kept)", "text": line.text}
    )


def _wins(new: Line, old: Line) -> bool:
    """A newer arXiv version replaces an older one; an older one never replaces a newer."""
    return not (new.version is not None and old.version is not None and new.version < old.version)


def _one_per_id(lines: Iterable[Line], pick: Callable[[Line, Line], Line]) -> Iterator[Line]:
    """One line per id of an id-ordered stream; ``pick(kept, other)`` chooses between two with the same id."""
    current: Line | None = None
    for line in lines:
        if current is not None and line.id == current.id:
            current = pick(current, line)
            continue
        if current is not None:
            yield current
        current = line
    if current is not None:
        yield current


def line_of(record: Record) -> Line:
    """A record as the corpus line it becomes: a run holds these (a few KB each), not pydantic objects."""
    return Line(record.id, record.model_dump_json(), record.version, None)

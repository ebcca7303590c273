"""The JSONL corpus: upsert by id, sorted, streamed, atomically replaced.

The corpus on disk is always sorted by id, so a merge streams the old file once beside this run's
(sorted) records: memory grows with the run, not with the corpus. A line that is not a valid record is
reported with its number and kept aside in ``corpus.rejected.jsonl``, never silently dropped.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from pipeline.errors import CorpusError, NewerCorpusError, OutputError
from pipeline.files import append_atomic, open_regular, read_regular, temp_beside, write_text_atomic
from pipeline.schema import READABLE_VERSIONS, SCHEMA_VERSION, Record

CORPUS_NAME = "corpus.jsonl"
REJECTED_NAME = "corpus.rejected.jsonl"


@dataclass
class MergeReport:
    total: int = 0
    added: int = 0
    replaced: int = 0  # records whose text changed
    unchanged: int = 0  # records this run wrote again exactly as they were
    kept_newer: int = 0
    superseded: int = 0  # records of papers now known by another id (a title resolved to its arXiv id)
    invalid_lines: list[dict[str, Any]] = field(default_factory=list)


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


class _Unsorted(Exception):
    """The existing corpus is not sorted by id (edited by hand): merge it in memory instead."""


def _merged(old: Iterable[Line], new: Iterable[Line], report: MergeReport) -> Iterator[Line]:
    """Sorted merge of two id-sorted streams (one id each); raises `_Unsorted` if the old one is not sorted."""
    fresh = iter(new)
    pending = next(fresh, None)
    previous = ""
    for line in old:
        if line.id == previous:
            _duplicate(line, report)
            continue
        if line.id < previous:
            raise _Unsorted(line.id)
        previous = line.id
        while pending is not None and pending.id < line.id:
            report.added += 1
            yield pending
            pending = next(fresh, None)
        if pending is not None and pending.id == line.id:
            if pending.text == line.text:  # the same record again (a rerun): not an update
                report.unchanged += 1
                yield line
            elif _wins(pending, line):
                report.replaced += 1
                yield pending
            else:
                report.kept_newer += 1
                yield line
            pending = next(fresh, None)
        else:
            yield line
    while pending is not None:
        report.added += 1
        yield pending
        pending = next(fresh, None)


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


def _keep_aside(out_dir: Path, report: MergeReport) -> None:
    """Invalid and duplicate lines of an existing corpus, whole, in corpus.rejected.jsonl (never dropped): written
    before the new corpus is swapped in, atomically and never through a link."""
    if report.invalid_lines:
        lines = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in report.invalid_lines)
        append_atomic(out_dir / REJECTED_NAME, lines)


SPOOL_LINES = 20_000  # lines a spool holds in memory before it writes a sorted run to disk


class Spool:
    """Lines kept sorted by id in bounded memory: past `SPOOL_LINES` they go to sorted run files beside the
    corpus (``.spool-*.tmp``, swept like every temporary file), merged back in one streaming pass by `lines`.

    A run's records, and an existing corpus that is not sorted, both go through it, so memory stays flat however
    large either is.
    """

    def __init__(self, folder: Path, limit: int = SPOOL_LINES) -> None:
        self.folder = folder
        self.limit = limit
        self.memory: list[tuple[str, int, Line]] = []
        self.runs: list[Path] = []
        self.count = 0

    def add(self, line: Line) -> None:
        self.count += 1
        self.memory.append((line.id, self.count, line))
        if len(self.memory) >= self.limit:
            self._spill()

    def __len__(self) -> int:
        return self.count

    def _spill(self) -> None:
        self.memory.sort(key=lambda item: (item[0], item[1]))
        path, fh = temp_beside(self.folder / f"spool-{os.getpid()}-{len(self.runs)}", "wb")  # .spool-….tmp
        with fh:
            for key, seq, line in self.memory:
                fh.write(orjson.dumps([key, seq, line.version, line.number, line.text]) + b"\n")
        self.runs.append(path)
        self.memory = []

    @staticmethod
    def _read(path: Path) -> Iterator[tuple[str, int, Line]]:
        with path.open("rb") as fh:
            for raw in fh:
                key, seq, version, number, text = orjson.loads(raw)
                yield key, seq, Line(key, text, version, None, number)

    def lines(self, *, keep: str = "latest", report: MergeReport | None = None) -> Iterable[Line]:
        """Every line once per id, in id order. ``keep="latest"``: of one id, the line added last wins unless it
        is an older arXiv version (a run's records); ``keep="first"``: the first wins and the others are
        reported as duplicates (an existing corpus)."""
        self.memory.sort(key=lambda item: (item[0], item[1]))
        streams = [self._read(path) for path in self.runs] + [iter(self.memory)]
        ordered = (line for _key, _seq, line in heapq.merge(*streams, key=lambda item: (item[0], item[1])))

        def first(kept: Line, other: Line) -> Line:
            if report is not None:
                _duplicate(other, report)
            return kept

        def latest(kept: Line, other: Line) -> Line:
            return other if _wins(other, kept) else kept

        return _one_per_id(ordered, first if keep == "first" else latest)

    def close(self) -> None:
        for path in self.runs:
            path.unlink(missing_ok=True)
        self.runs, self.memory = [], []


class Sink(Protocol):
    """Receives every record of the merged corpus in order; `restart` means: forget what you saw."""

    def add(self, record: dict[str, Any]) -> None: ...

    def restart(self) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class Fanout:
    """Several sinks as one (the tables and the feed see the same records in one pass)."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def add(self, record: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.add(record)

    def restart(self) -> None:
        for sink in self.sinks:
            sink.restart()

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

    def abort(self) -> None:
        for sink in self.sinks:
            sink.abort()


def _write(path: Path, lines: Iterable[Line], report: MergeReport, sink: Sink | None) -> None:
    """Write to a temporary file beside ``path``, then rename: readers never see a torn corpus.

    The tables (``sink``) are finished before the corpus is renamed, and any failure (a full disk) removes
    every temporary file and leaves the previous corpus and tables as they were.
    """
    tmp, out = temp_beside(path)
    try:
        with out:
            for line in lines:
                out.write(line.text)
                out.write("\n")
                report.total += 1
                if sink is not None:
                    sink.add(line.obj if line.obj is not None else orjson.loads(line.text))
            out.flush()
            os.fsync(out.fileno())
        if sink is not None:
            sink.close()
        _keep_aside(path.parent, report)  # kept first, then the swap: a failed append loses no line
        os.replace(tmp, path)
        _seal(path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if sink is not None:
            sink.abort()
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write the outputs in {path.parent}: {exc.strerror or exc}") from exc
        raise


def line_of(record: Record) -> Line:
    """A record as the corpus line it becomes: a run holds these (a few KB each), not pydantic objects."""
    return Line(record.id, record.model_dump_json(), record.version, None)


def merge(
    out_dir: Path,
    records: Spool | Iterable[Record | Line],
    sink: Sink | None = None,
    drop: set[str] | None = None,
) -> MergeReport:
    """Upsert ``records`` into ``out_dir/corpus.jsonl`` by id; the file is replaced atomically.

    ``sink`` sees every record of the merged corpus, in order (the tables are written from it in the same pass).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / CORPUS_NAME
    for stale in out_dir.glob(".corpus.*.tmp"):  # left by a killed run; we hold the folder's lock
        stale.unlink(missing_ok=True)
    report = MergeReport()
    drop = drop or set()

    def keep(lines: Iterable[Line]) -> Iterator[Line]:
        for line in lines:
            if line.id in drop:
                report.superseded += 1
                continue
            yield line

    if isinstance(records, Spool):
        spool = records
    else:
        spool = Spool(out_dir)
        for record in records:
            spool.add(record if isinstance(record, Line) else line_of(record))
    try:
        _write(path, _merged(keep(scan(path, report)), spool.lines(), report), report, sink)
    except _Unsorted:  # an edited corpus: sorted through a spool of its own, still in bounded memory
        if sink is not None:
            sink.restart()
        report = MergeReport()
        old = Spool(out_dir)
        try:
            for line in keep(scan(path, report)):
                old.add(line)
            _write(path, _merged(old.lines(keep="first", report=report), spool.lines(), report), report, sink)
        finally:
            old.close()
    finally:
        spool.close()
    return report


def _best(a: Line, b: Line) -> Line:
    """The record to keep of two with one id, whatever order they come in: the newer arXiv version, then the
    later summary (provenance.created_at), then the larger text (any fixed rule makes the merge order-free)."""

    def rank(line: Line) -> tuple[int, str, str]:
        obj = line.obj if line.obj is not None else orjson.loads(line.text)
        created = (obj.get("provenance") or {}).get("created_at") or ""
        return (line.version if line.version is not None else -1, str(created), line.text)

    return a if rank(a) >= rank(b) else b


def _in_order(path: Path, report: MergeReport) -> Iterator[Line]:
    """A corpus's lines as written (sorted by id, as this tool writes it); raises `_Unsorted` if they are not."""
    previous = ""
    for line in scan(path, report):
        if line.id < previous:
            raise _Unsorted(line.id)
        previous = line.id
        yield line


def _resolved(sources: list[Path]) -> set[str]:
    """The ids that valid records of ``sources`` were resolved from (``source_meta.resolved_from``): those papers
    are known by another id now, and their old records go (a record that exists supersedes them)."""
    found: set[str] = set()
    for source in sources:
        try:
            handle = open_regular(source, follow=False)
        except OSError:  # missing, or not a file we read: `scan` says so, by name
            continue
        with handle as fh:
            for raw in fh:
                if b'"resolved_from"' not in raw:  # the cheap test first: most lines were never resolved
                    continue
                try:
                    line = _parse(raw.decode("utf-8").rstrip("\r\n"))
                except (UnicodeDecodeError, ValueError, _Newer):
                    continue
                old = ((line.obj or {}).get("source_meta") or {}).get("resolved_from")
                if isinstance(old, str) and old != line.id:
                    found.add(old)
    return found


def _single(folder: Path) -> list[Path]:
    return [folder / CORPUS_NAME]


def merge_corpora(
    out_dir: Path,
    inputs: list[Path],
    sink: Sink | None = None,
    files_of: Callable[[Path], list[Path]] | None = None,
) -> MergeReport:
    """``summarize merge``: the corpora in ``inputs`` (folders) upserted into ``out_dir``'s, one id each.

    ``files_of`` lists a folder's corpus files (the archive stage's partitions, then corpus.jsonl); by default a
    folder's corpus.jsonl alone. Every input is streamed in id order (a k-way merge), so memory stays flat whatever
    the corpus sizes; the result does not depend on the order of the inputs or on how often one is merged (`_best`
    decides ties).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / CORPUS_NAME
    for stale in out_dir.glob(".corpus.*.tmp"):
        stale.unlink(missing_ok=True)
    listed = files_of or _single
    sources = [source for folder in inputs for source in listed(folder) if source.resolve() != path.resolve()]
    if path.exists():
        sources.append(path)
    report = MergeReport()
    resolved = _resolved(sources)

    def current(lines: Iterable[Line]) -> Iterator[Line]:
        """Lines whose paper no other record says it was resolved from (title: → arxiv:)."""
        for line in lines:
            if line.id in resolved:
                report.superseded += 1
                continue
            yield line

    streams = [_in_order(source, report) for source in sources]
    try:
        _write(path, current(_one_per_id(heapq.merge(*streams, key=lambda item: item.id), _best)), report, sink)
    except _Unsorted:  # an edited corpus among them: every input sorted through a spool (still bounded memory)
        if sink is not None:
            sink.restart()
        report = MergeReport()
        spools = []
        try:
            for source in sources:
                spool = Spool(out_dir)
                spools.append(spool)
                for line in scan(source, report):
                    spool.add(line)
            ordered = heapq.merge(*(spool.lines(keep="first", report=report) for spool in spools), key=lambda x: x.id)
            _write(path, current(_one_per_id(ordered, _best)), report, sink)
        finally:
            for spool in spools:
                spool.close()
    return report

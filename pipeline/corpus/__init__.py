"""The JSONL corpus: upsert by id, sorted, streamed, atomically replaced.

The corpus on disk is always sorted by id, so a merge streams the old file once beside this run's
(sorted) records: memory grows with the run, not with the corpus. A line that is not a valid record is
reported with its number and kept aside in ``corpus.rejected.jsonl``, never silently dropped.

`lines`: a corpus line parsed and validated, `scan` over a file, the seal, the `MergeReport`.
`spool`: lines sorted by id in bounded memory. This module merges and writes: `merge` (a run's records),
`merge_corpora` (``summarize merge``), the `Sink` that renders the tables in the same pass.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson

from pipeline.corpus.lines import (
    Line,
    MergeReport,
    _duplicate,
    _Newer,
    _one_per_id,
    _parse,
    _seal,
    _wins,
    line_of,
    scan,
)
from pipeline.corpus.spool import Spool
from pipeline.errors import OutputError
from pipeline.files import append_atomic, open_regular, temp_beside
from pipeline.schema import Record

CORPUS_NAME = "corpus.jsonl"
REJECTED_NAME = "corpus.rejected.jsonl"


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


def _keep_aside(out_dir: Path, report: MergeReport) -> None:
    """Invalid and duplicate lines of an existing corpus, whole, in corpus.rejected.jsonl (never dropped): written
    before the new corpus is swapped in, atomically and never through a link."""
    if report.invalid_lines:
        lines = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in report.invalid_lines)
        append_atomic(out_dir / REJECTED_NAME, lines)


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

"""Writing the partitioned corpus (`store` is its layout and its reading): an upsert that rewrites only the
partitions whose records changed, the manifest, and the migration from (and back to) a single corpus.jsonl.

Every write is a temporary file beside its name, fsynced and renamed (``os.replace``: a link planted at the name
is replaced, never followed); reads never follow a link and are bounded. Order per partition: its ids file as
the union of old and new ids, the partition, its exact ids file; the manifest last. A crash at any point leaves
each partition whole, old or new; the next run finds every record where its ids say (a superset of ids only ever
routes a record to the partition that will hold it) and rewrites the manifest from what is on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import corpus
from pipeline.archive.store import (
    LAYOUT_VERSION,
    MANIFEST,
    days_of,
    light_scan,
    load_manifest,
    partition_dir,
    partition_of,
    partitions,
    read_ids,
    read_lines,
    real_day,
    resolve,
)
from pipeline.corpus.lines import Line, MergeReport
from pipeline.corpus.spool import Spool
from pipeline.errors import CorpusError, OutputError
from pipeline.files import open_regular, temp_beside, write_bytes_atomic
from pipeline.schema import SCHEMA_VERSION


def _ids_of(folder: Path, name: str) -> dict[str, str]:
    """The ids file of partition ``name``, rebuilt from the partition when it is missing or lacks a record (a
    partition copied in by hand): such a record's day is its summary's date when in that month, else the 1st."""
    where = partition_dir(folder)
    ids = read_ids(where / f"{name}.ids")
    manifest = load_manifest(folder).get("partitions", {}).get(name, {})
    if ids and manifest.get("records") is not None and len(ids) >= manifest["records"]:
        return ids
    for line in corpus.scan(where / f"{name}.jsonl", MergeReport()):
        if line.id not in ids:
            created = str(((line.obj or {}).get("provenance") or {}).get("created_at") or "")[:10]
            ids[line.id] = created if real_day(created) and created in days_of(name) else days_of(name)[0]
    return ids


def _locate(folder: Path, wanted: set[str]) -> dict[str, str]:
    """The partition of each id of ``wanted`` that the corpus holds: every ids file streamed (about 30 bytes a
    record, never held in memory), a partition whose ids file is missing or short read in full (`_ids_of`)."""
    keys = {key.encode("utf-8", "backslashreplace"): key for key in wanted}
    counts = load_manifest(folder).get("partitions", {})
    where = partition_dir(folder)
    located: dict[str, str] = {}
    for name in partitions(folder):
        lines = 0
        try:
            with open_regular(where / f"{name}.ids", follow=False) as fh:
                for raw in fh:
                    lines += 1
                    key = keys.get(raw[: raw.rfind(b"\t")])
                    if key is not None:
                        located.setdefault(key, name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise CorpusError(f"{where / name}.ids: cannot read: {exc.strerror or exc}; move it aside") from exc
        expected = (counts.get(name) or {}).get("records") if isinstance(counts.get(name), dict) else None
        if not lines or expected is None or lines < expected:  # rebuilt from the partition itself
            for key in wanted.intersection(_ids_of(folder, name)):
                located.setdefault(key, name)
    return located


@dataclass
class Upsert:
    """What one upsert did: the merge's counts, the first-seen day of every record it added, replaced, kept or
    dropped (the archive periods to render again), the partitions it rewrote, and this run's records (a spool)."""

    report: MergeReport = field(default_factory=MergeReport)
    days: dict[str, str] = field(default_factory=dict)
    touched: list[str] = field(default_factory=list)
    digest: Spool | None = None


def _wins(old: Line, new: Line) -> Line:
    return new if corpus._wins(new, old) else old


def upsert(
    folder: Path,
    incoming: Spool | Iterable[Line | Any],
    *,
    today: str,
    drop: set[str] | None = None,
    pick: Callable[[Line, Line], Line] = _wins,
    seen: dict[str, str] | None = None,
    digest: Callable[[str], bool] | None = None,
    between: Callable[[str], None] | None = None,
    unit: str = "month",
) -> Upsert:
    """Upsert ``incoming`` (Lines or Records, any order; the later of one id wins) into ``folder/corpus/``.

    A new record goes to the partition (``unit``: month or week) of its first-seen day (``seen[id]``, else
    ``today``); an existing one is
    rewritten where it lives (``pick(old, new)`` chooses). ``drop``: ids to remove (superseded). ``digest(kind)``
    says which records go into ``Upsert.digest`` ("added", "replaced", "unchanged", "kept"); ``between`` is called
    after each partition is renamed into place (the crash tests' hook).
    """
    where = partition_dir(folder)
    where.mkdir(parents=True, exist_ok=True)
    for stale in where.glob(".*.tmp"):  # a killed run's; the caller holds the folder's lock
        stale.unlink(missing_ok=True)
    drop = drop or set()
    seen = seen or {}
    result = Upsert()
    if isinstance(incoming, Spool):
        everything = incoming
    else:
        everything = Spool(folder)
        for item in incoming:
            everything.add(item if isinstance(item, Line) else corpus.line_of(item))
    try:
        wanted = {line.id for line in everything.lines()} | drop
        located = _locate(folder, wanted)  # id → the partition holding it now
        per_part: dict[str, Spool] = {}
        for line in everything.lines():
            name = located.get(line.id) or partition_of(seen.get(line.id) or today, unit)
            per_part.setdefault(name, Spool(folder)).add(line)
        dropping: dict[str, set[str]] = {}
        for key in drop:
            if key in located:
                dropping.setdefault(located[key], set()).add(key)
        # Partitions that gain records first, those that only lose some (superseded) last: a crash in between
        # leaves a paper twice (old and new id, the next run drops the old), never lost.
        order = sorted(per_part) + sorted(set(dropping) - set(per_part))
        result.digest = Spool(folder)
        try:
            for name in order:
                spool = per_part.get(name)
                _rewrite(
                    folder,
                    name,
                    spool,
                    dropping.get(name, set()),
                    _ids_of(folder, name) if name in partitions(folder) else {},
                    pick,
                    seen,
                    today,
                    result,
                    digest,
                )
                result.touched.append(name)
                if between is not None:
                    between(name)
        finally:
            for spool in per_part.values():
                spool.close()
        _write_manifest(folder, set(result.touched))
        result.report.total = sum(
            int(entry.get("records", 0)) for entry in load_manifest(folder)["partitions"].values()
        )
    except OSError as exc:
        if result.digest is not None:
            result.digest.close()
        raise OutputError(f"cannot write the corpus in {where}: {exc.strerror or exc}") from exc
    except BaseException:
        if result.digest is not None:
            result.digest.close()
        raise
    finally:
        if everything is not incoming:
            everything.close()
    return result


_COUNTERS = {"added": "added", "replaced": "replaced", "unchanged": "unchanged", "kept": "kept_newer"}


def _rewrite(
    folder: Path,
    name: str,
    spool: Spool | None,
    drop: set[str],
    old_ids: dict[str, str],
    pick: Callable[[Line, Line], Line],
    seen: dict[str, str],
    today: str,
    result: Upsert,
    digest: Callable[[str], bool] | None,
) -> None:
    """One partition merged with its new records and written: ids (union) → partition → ids (exact)."""
    where = partition_dir(folder)
    path = where / f"{name}.jsonl"
    report = result.report
    new_lines = list(spool.lines()) if spool is not None else []  # one partition's share of this run
    fresh = {line.id: line for line in new_lines}
    union = dict(old_ids)
    for key in fresh:
        union.setdefault(key, seen.get(key) or today)
    _write_ids(where / f"{name}.ids", union)
    exact: dict[str, str] = {}
    hasher = hashlib.sha256()
    count = 0
    tmp, out = temp_beside(path, "wb")
    try:
        with out:
            for line, kind in _merge(light_scan(path, report), iter(sorted(new_lines, key=lambda x: x.id)), pick):
                if kind == "duplicate":
                    corpus._duplicate(line, report)
                    continue
                if line.id in drop:
                    report.superseded += 1
                    result.days[line.id] = old_ids.get(line.id) or union.get(line.id, today)
                    continue
                day = old_ids.get(line.id) or union[line.id]
                if kind != "old":
                    counter = _COUNTERS[kind]
                    setattr(report, counter, getattr(report, counter) + 1)
                    result.days[line.id] = day
                    if result.digest is not None and (digest is None or digest(kind)):
                        result.digest.add(line)
                data = line.text.encode("utf-8", "backslashreplace") + b"\n"
                out.write(data)
                hasher.update(data)
                exact[line.id] = day
                count += 1
            out.flush()
            os.fsync(out.fileno())
        corpus._keep_aside(folder, report)  # invalid lines of the old partition, whole, before the swap
        report.invalid_lines = []
        if count:
            os.replace(tmp, path)
        else:  # every record of it dropped: the partition goes
            tmp.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if count:
        _write_ids(where / f"{name}.ids", exact)
    else:
        (where / f"{name}.ids").unlink(missing_ok=True)


def _merge(old: Iterable[Line], new: Iterator[Line], pick: Callable[[Line, Line], Line]) -> Iterator[tuple[Line, str]]:
    """Two id-sorted streams as one, each line with what happened to it: old (untouched), added, replaced,
    unchanged, kept (the old one won), duplicate (a second old line of one id). An old stream that is not sorted
    (edited by hand) is sorted through memory first: one partition is a month of papers."""
    old_list = list(old)
    if any(a.id > b.id for a, b in zip(old_list, old_list[1:], strict=False)):
        old_list.sort(key=lambda line: line.id)
    pending = next(new, None)
    previous: str | None = None
    for line in old_list:
        if line.id == previous:
            yield line, "duplicate"
            continue
        previous = line.id
        while pending is not None and pending.id < line.id:
            yield pending, "added"
            pending = next(new, None)
        if pending is not None and pending.id == line.id:
            if pending.text == line.text:
                yield line, "unchanged"
            else:
                line = resolve(line)
                chosen = pick(line, pending)
                yield chosen, ("kept" if chosen is line else "replaced")
            pending = next(new, None)
        else:
            yield line, "old"
    while pending is not None:
        yield pending, "added"
        pending = next(new, None)


def _write_ids(path: Path, ids: dict[str, str]) -> None:
    text = "".join(f"{key}\t{day}\n" for key, day in sorted(ids.items()))
    write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"))


def _digest_of(path: Path) -> tuple[str, int, int]:
    """sha256, bytes and lines of a partition on disk."""
    hasher = hashlib.sha256()
    size = lines = 0
    with open_regular(path, follow=False) as fh:
        for raw in fh:
            hasher.update(raw)
            size += len(raw)
            lines += 1
    return hasher.hexdigest(), size, lines


def _write_manifest(folder: Path, touched: set[str]) -> None:
    """The manifest from what is on disk: a partition rewritten now, or whose size differs from what the old
    manifest says (left by a crash before it was written), is hashed again; the others are carried over."""
    old = load_manifest(folder).get("partitions", {})
    where = partition_dir(folder)
    entries: dict[str, Any] = {}
    for name in partitions(folder):
        path = where / f"{name}.jsonl"
        before = old.get(name) if isinstance(old.get(name), dict) else None
        size = os.stat(path, follow_symlinks=False).st_size
        if name in touched or before is None or before.get("bytes") != size:
            sha, size, lines = _digest_of(path)
            before = {"file": f"{name}.jsonl", "records": lines, "bytes": size, "sha256": sha}
        entries[name] = before
    manifest = {
        "layout": "partitioned",
        "layout_version": LAYOUT_VERSION,
        "schema_version": SCHEMA_VERSION,
        "partitioned_by": "first-seen month (YYYY-MM); corpus/<month>.ids: id<TAB>first-seen day",
        "records": sum(entry["records"] for entry in entries.values()),
        "partitions": entries,
    }
    write_bytes_atomic(where / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())


def migrate(folder: Path, today: str, unit: str = "month") -> Upsert | None:
    """A single corpus.jsonl folded into the partitions (its records' first-seen day: their summary's date),
    then removed. Idempotent: a crash before the removal leaves both, and the next migration finds every record
    unchanged. None when there is nothing to migrate."""
    single = folder / corpus.CORPUS_NAME
    if not single.exists() and not single.is_symlink():
        return None
    report = MergeReport()
    seen: dict[str, str] = {}
    spool = Spool(folder)
    try:
        for line in corpus.scan(single, report):
            created = str(((line.obj or {}).get("provenance") or {}).get("created_at") or "")[:10]
            if real_day(created):
                seen[line.id] = created
            spool.add(Line(line.id, line.text, line.version, None, line.number))
        corpus._keep_aside(folder, report)  # its invalid lines, whole, beside the corpus
        result = upsert(folder, spool, today=today, pick=corpus._best, seen=seen, digest=lambda kind: False, unit=unit)
    finally:
        spool.close()
    single.unlink(missing_ok=True)
    return result


def to_single(folder: Path) -> int:
    """The partitions folded back into one corpus.jsonl (``corpus_layout = "single"``), then removed."""
    report = corpus.merge(folder, read_lines(folder))
    where = partition_dir(folder)
    for name in partitions(folder):
        (where / f"{name}.jsonl").unlink(missing_ok=True)
        (where / f"{name}.ids").unlink(missing_ok=True)
    (where / MANIFEST).unlink(missing_ok=True)
    return report.total

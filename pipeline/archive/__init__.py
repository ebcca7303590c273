"""The partitioned corpus and what it publishes (``corpus_layout = "partitioned"``; docs/archive.md).

`store`: ``corpus/YYYY-MM.jsonl`` by first-seen month, ids files, the manifest; one reader of both forms.
`write`: upserts that rewrite only the partitions whose records changed; migration from (and back to) a single
corpus.jsonl.
`publish`: the digest (this run's papers) as the tables, page and feed, and ``archive/`` per period.
The run and ``summarize merge`` call `upsert_run` / `upsert_merge`; nothing here knows about the CLI.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pipeline import corpus
from pipeline.archive import publish, store, weeks, write
from pipeline.corpus import Sink
from pipeline.corpus.lines import MergeReport
from pipeline.errors import ConfigError


def today() -> str:
    """The day a run files its new papers under: today (UTC), or ``SUMMARIZE_TODAY`` (YYYY-MM-DD) to backfill a
    missed day's listing under its own day (the benchmark uses it to run "mid-month", reproducibly)."""
    given = os.environ.get("SUMMARIZE_TODAY", "")
    if given:
        try:
            return date.fromisoformat(given).isoformat()
        except ValueError:
            raise ConfigError(f"SUMMARIZE_TODAY={given!r} is not a date (YYYY-MM-DD)") from None
    return datetime.now(UTC).date().isoformat()


# The default layout ("auto") keeps one corpus.jsonl and a page of the whole corpus while that stays a file a reader
# opens; past either bound the folder moves to the partitioned layout (the page: this run's digest; archive/ per
# day), once, and stays there.
AUTO_RECORDS = 10_000
AUTO_BYTES = 20 * 2**20


def choose_layout(out_dir: Path, layout: str, inputs: Iterable[Path] = ()) -> tuple[str, str | None]:
    """The layout a run (or a merge of ``inputs``) writes ``out_dir`` in: ``layout`` itself unless it is "auto";
    then partitioned where the folder (or an input) already is, or where the single corpus has outgrown a page
    (more than `AUTO_RECORDS` records or `AUTO_BYTES` bytes), else single. The second value says, once, why a
    single folder moves."""
    if layout != "auto":
        return layout, None
    folders = [out_dir, *inputs]
    if any(store.is_partitioned(folder) for folder in folders):
        return "partitioned", None
    size = records = 0
    for folder in folders:
        single = folder / corpus.CORPUS_NAME
        try:
            info = single.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue  # not ours to read here: the corpus reader refuses it with its own message
        size += info.st_size
        if size <= AUTO_BYTES:
            with single.open("rb") as fh:
                records += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(2**20), b""))
    if size <= AUTO_BYTES and records <= AUTO_RECORDS:
        return "single", None
    grown = f"{records:,} records" if size <= AUTO_BYTES else f"{size / 2**20:.0f} MB"
    return "partitioned", (
        f"the corpus outgrew one page ({grown}): moved to the partitioned layout, corpus/ by month and the page "
        'holding this run\'s papers, archive/ the earlier days (docs/archive.md); corpus_layout = "single" keeps '
        "one file"
    )


def prepare(out_dir: Path, layout: str, unit: str = "month") -> None:
    """The folder in ``layout``: a single corpus.jsonl migrated into partitions, or partitions folded back."""
    if layout == "partitioned":
        write.migrate(out_dir, today(), unit)
    elif store.is_partitioned(out_dir):
        write.to_single(out_dir)


def upsert_run(settings: Any, records: Any, drop: set[str], make_sink: Callable[[str], Sink]) -> MergeReport:
    """A run's records upserted into the partitions, then the changed periods and the digest (every record this
    run wrote, new or not) rendered; ``make_sink(period_links)`` is called once the corpus is written (a ranking
    computed inside it reads the new corpus)."""
    out_dir = settings.out_dir
    unit = settings.corpus_partition
    prepare(out_dir, "partitioned", unit)
    upserted = write.upsert(out_dir, records, today=today(), drop=drop, unit=unit)
    upserted.report.warnings += store.stray_warnings(out_dir)
    _publish(settings, upserted, make_sink)
    return upserted.report


def upsert_merge(settings: Any, inputs: Iterable[Path], make_sink: Callable[[str], Sink]) -> MergeReport:
    """``summarize merge`` into a partitioned folder: every input's records (single or partitioned) upserted, the
    newest of each id kept whatever the order (`corpus._best`); an input's first-seen days are kept; the digest
    is what the merge added or changed."""
    import heapq

    out_dir = settings.out_dir
    prepare(out_dir, "partitioned", settings.corpus_partition)
    seen: dict[str, str] = {}
    report = MergeReport()
    folders = [folder for folder in inputs if folder.resolve() != out_dir.resolve()]
    for folder in folders:
        for name in store.partitions(folder):
            for key, day in store.read_ids(store.partition_dir(folder) / f"{name}.ids").items():
                seen[key] = min(day, seen.get(key, day))  # first seen: the earliest of the inputs
    streams = [store.read_lines(folder, report) for folder in folders]
    ordered = corpus._one_per_id(heapq.merge(*streams, key=lambda line: line.id), corpus._best)
    upserted = write.upsert(
        out_dir,
        ordered,
        today=today(),
        pick=corpus._best,
        seen=seen,
        digest=lambda kind: kind in ("added", "replaced"),
        unit=settings.corpus_partition,
    )
    upserted.report.invalid_lines[:0] = report.invalid_lines
    for folder in [out_dir, *folders]:
        upserted.report.warnings += store.stray_warnings(folder)
    _publish(settings, upserted, make_sink)
    return upserted.report


def _publish(settings: Any, upserted: write.Upsert, make_sink: Callable[[str], Sink]) -> None:
    publish.publish(
        settings.out_dir,
        upserted,
        kind=settings.archive_period,
        title=settings.title,
        html_page=settings.html,
        make_sink=make_sink,
        today=today(),
    )
    if settings.archive_period == "day":  # the week view of the days this run changed
        weeks.render_weeks(settings.out_dir, set(upserted.days.values()), title=settings.title, html_page=settings.html)


__all__ = ["choose_layout", "prepare", "publish", "store", "today", "upsert_merge", "upsert_run", "write"]

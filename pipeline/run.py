"""The run: sources → enrichment → engine (through the cache, `pipeline.dispatch`) → corpus → tables and feed,
and the report of what happened; `merge_outputs` for ``summarize merge``.

This module only drives the stages; each lives in its own module (`pipeline.intake` reads the inputs in chunks,
`pipeline.outputs` merges the corpus and writes what it renders). Inputs are read and summarised in chunks, so
memory stays flat however large they are. It takes an ``on_progress`` callback so
the CLI can draw a progress bar without the library knowing about terminals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline import intake, rank
from pipeline.cache import SummaryCache
from pipeline.dispatch import Failure, Progress, Runner, RunReport
from pipeline.engines import Engine, get_engine
from pipeline.errors import InputError, Interrupted, LockedError, OutputError
from pipeline.files import StateError, read_json_state, read_regular, sweep_stale, write_text_atomic
from pipeline.outputs import merge_folders, merge_run, redact_report, write_failures, write_json
from pipeline.schema import Paper
from pipeline.secrets import redact
from pipeline.settings import Settings


def run(
    items: Iterable[Paper | InputError],
    settings: Settings,
    *,
    refresh: bool = False,
    dry_run: bool = False,
    on_progress: Progress | None = None,
    engine: Engine | None = None,
    fetch: Any = None,
) -> RunReport:
    """Summarise every paper of ``items`` into ``settings.out_dir``; never raises for one bad paper.

    ``fetch`` (a `pipeline.sources.remote.Fetch`) describes a remote source: a fetch that fails part-way keeps the
    papers already fetched, and its status (ok, empty, stale, failed) goes into the report.
    """
    from filelock import FileLock, Timeout

    started = time.perf_counter()
    out_dir = settings.out_dir
    if rank.wanted(settings.interests) and not dry_run:
        rank.check_interests(settings)  # a missing library file or judge key fails before any work
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if not out_dir.is_dir():
            raise FileExistsError
        lock = FileLock(str(out_dir / ".summarize.lock"))
        lock.acquire(timeout=settings.lock_wait_s)
    except Timeout as exc:
        raise LockedError(
            f"another summarize run is writing to {out_dir} (lock {out_dir / '.summarize.lock'}); "
            "wait for it to finish, or use another --out"
        ) from exc
    except (FileExistsError, NotADirectoryError) as exc:
        raise OutputError(f"--out {out_dir} is a file, not a folder; name a folder for the outputs") from exc
    except OSError as exc:
        raise OutputError(
            f"cannot write to the output folder {out_dir} ({exc.strerror or exc}); choose another --out"
        ) from exc
    try:
        sweep_stale(out_dir)  # temporary files of a killed run; we hold the folder's lock
        return _run_locked(items, settings, refresh, dry_run, on_progress, engine, started, fetch)
    finally:
        lock.release()


def _run_locked(
    items: Iterable[Paper | InputError],
    settings: Settings,
    refresh: bool,
    dry_run: bool,
    on_progress: Progress | None,
    engine: Engine | None,
    started: float,
    fetch: Any = None,
) -> RunReport:
    input_failures: list[Failure] = []
    built_here = engine is None
    engine = engine or get_engine(settings)
    cache = SummaryCache(settings.cache_dir)
    runner = Runner(settings, engine, cache, refresh=refresh)
    report = runner.report
    report.shard = settings.shard
    cluster = batch = pool = None
    try:  # a setting these refuse (--batch with the embedded engine, Ray not installed) leaves nothing open
        if settings.batch and not dry_run:
            from pipeline.dispatch.batch import BatchDispatch

            batch = BatchDispatch(runner)
        elif settings.executor == "ray" and not dry_run:
            from pipeline.dispatch.ray_data import RayExecutor

            cluster = RayExecutor(settings)
        elif built_here and not engine.is_async and not dry_run and _workers(settings) > 1:
            # A worker rebuilds the engine from the settings: only the engine the settings name goes there.
            from pipeline.dispatch.processes import ProcessPool

            pool = ProcessPool(settings, _workers(settings))
    except BaseException:
        cache.close()
        raise
    enrichment = intake.Enrichment(settings) if settings.resolve or settings.full_text else None
    seen: dict[str, int | None] = {}  # ids done in earlier chunks, with their arXiv version
    superseded: dict[str, str] = {}  # a title: id → the arXiv id it resolved to
    unknown = 0  # papers known by title and abstract alone: no link, no authors
    try:
        size = intake.RAY_CHUNK if cluster is not None else intake.CHUNK
        for chunk in intake.chunks(items, settings, fetch, input_failures, size):
            chunk, duplicates = intake.dedupe(chunk)
            report.duplicates += duplicates
            if settings.shard:
                k, n = (int(x) for x in settings.shard.split("/"))
                mine = [p for p in chunk if intake.shard_of(p.id, n) == k]
                report.other_shards += len(chunk) - len(mine)
                chunk = mine
            if enrichment is not None:
                chunk, replaced = enrichment.enrich(chunk)
                superseded.update(replaced)
                chunk, duplicates = intake.dedupe(chunk)
                report.duplicates += duplicates
            fresh = []
            for paper in chunk:  # one rule inside a chunk and across chunks: the later copy wins (`dedupe`),
                if paper.id in seen:  # unless it is an older arXiv version (the corpus spool keeps the latest)
                    report.duplicates += 1
                    old = seen[paper.id]
                    if paper.version is not None and old is not None and paper.version < old:
                        continue
                else:
                    report.total += 1
                    unknown += not paper.url and not paper.authors
                seen[paper.id] = paper.version
                fresh.append(paper)
            if report.budget_stopped:
                runner.not_sent(fresh)
            elif dry_run:
                runner.estimate(fresh)
            elif batch is not None:
                batch.run(fresh, on_progress)
            elif cluster is not None:
                cluster.run(runner, fresh, on_progress)
            elif pool is not None:
                pool.run(runner, fresh, on_progress)
            elif engine.is_async:
                runner.run_async(fresh, on_progress)
            else:
                runner.run_sync(fresh, on_progress)
        report.dry_run = dry_run
        report.cache_corrupted = cache.corrupted
        report.cache_rebuilt = cache.rebuilt
    except KeyboardInterrupt:
        raise _interrupted(report) from None
    finally:
        if pool is not None:
            pool.close()
            report.executor = pool.summary()
        cache.close()
        if cluster is not None:
            cluster.close()
            report.executor = cluster.summary()
        if enrichment is not None:
            report.enrich = enrichment.close()
    report.input_errors = len(input_failures)
    if unknown and rank.wanted(settings.interests) and not settings.resolve:
        report.warnings.append(
            f"{unknown} papers without a link or authors: --authors cannot match; --resolve finds them"
        )
    if fetch is not None:
        report.fetch = fetch.summary()
    report.failures[:0] = input_failures
    report.failed += len(input_failures)
    if not dry_run:
        # A record is superseded only by a record that exists: a resolved paper whose summary failed (or was not
        # sent, past --max-cost) leaves its old title: record in place.
        missing = {failure.id for failure in report.failures}
        drop = {old for old, new in superseded.items() if new not in missing}
        settings = _layout(settings, report)
        try:
            merged, interests = merge_run(settings, runner.records, drop)
            if interests is not None:
                report.interests = interests
        except KeyboardInterrupt:
            raise _interrupted(report) from None
        report.corpus_superseded = merged.superseded
        report.corpus_total, report.corpus_added = merged.total, merged.added
        report.corpus_replaced, report.corpus_unchanged = merged.replaced, merged.unchanged
        report.corpus_invalid_lines = [item["line"] for item in merged.invalid_lines]
        report.warnings += merged.warnings
    report.seconds = round(time.perf_counter() - started, 3)
    redact_report(report)
    if not dry_run:
        write_failures(settings.out_dir, report.failures)
        write_json(settings.out_dir / "run.json", report.to_json())
    return report


def _layout(settings: Settings, report: RunReport, inputs: Iterable[Path] = ()) -> Settings:
    """The settings with the layout this folder is written in (``corpus_layout = "auto"`` decided); a move to the
    partitioned layout is said in the report."""
    from pipeline.archive import choose_layout

    layout, moved = choose_layout(settings.out_dir, settings.corpus_layout, inputs)
    report.corpus_layout, report.layout_change = layout, moved
    return settings.model_copy(update={"corpus_layout": layout})


def _interrupted(report: RunReport) -> Interrupted:
    """Ctrl-C: every summary that arrived is already in the cache; the corpus and tables are left as they were."""
    already = f", {report.cached} were cached already" if report.cached else ""
    return Interrupted(
        f"interrupted: {report.new} of {report.total} papers read so far were summarised and saved in the cache"
        f"{already}; the corpus and tables in {report.out_dir} are as they were. Run the same command again to "
        "resume: saved papers are not summarised again."
    )


def _workers(settings: Settings) -> int:
    """Processes for the embedded engine: ``workers``, else one per CPU this process may use."""
    if settings.workers:
        return settings.workers
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


SUMMED = ("total", "new", "cached", "failed", "not_done", "duplicates", "input_errors", "input_tokens", "output_tokens")


def merge_outputs(inputs: list[Path], settings: Settings) -> dict[str, Any]:
    """``summarize merge``: several output folders (shards, machines) into ``settings.out_dir``: corpora merged
    (newest version per id, order-free, idempotent), tables and feed rendered again, run reports summed."""
    from filelock import FileLock, Timeout

    started = time.perf_counter()
    out_dir = settings.out_dir
    from pipeline.archive import choose_layout, store

    missing = [str(folder) for folder in inputs if not store.has_corpus(folder)]
    if missing:
        raise InputError(f"no corpus.jsonl (or corpus/ partitions) in {', '.join(missing)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / ".summarize.lock"))
    try:
        lock.acquire(timeout=settings.lock_wait_s)
    except Timeout as exc:
        raise LockedError(f"another summarize run is writing to {out_dir}; wait for it, or use another --out") from exc
    try:
        sweep_stale(out_dir)
        layout, moved = choose_layout(out_dir, settings.corpus_layout, inputs)
        settings = settings.model_copy(update={"corpus_layout": layout})
        merged = merge_folders(settings, inputs)
        from pipeline.deliver.state import merge_states

        merge_states(inputs, out_dir, settings.delivery.remember)  # what each folder's digests delivered
        summary: dict[str, Any] = {name: 0 for name in SUMMED}
        summary["cost_usd"] = 0.0
        failures: list[str] = []
        for folder in inputs:
            if folder.resolve() == out_dir.resolve():
                continue
            try:  # never through a link, never unbounded, never too deep: a folder to merge is data, not trusted
                run_report = read_json_state(folder / "run.json", 64 * 2**20) or {}
            except StateError as exc:
                summary.setdefault("warnings", []).append(f"{exc}; its counts are not summed")
                run_report = {}
            if not isinstance(run_report, dict):
                run_report = {}
            for name in SUMMED:
                value = run_report.get(name)
                summary[name] += value if isinstance(value, int) else 0
            cost = run_report.get("cost_usd")
            summary["cost_usd"] += cost if isinstance(cost, (int, float)) else 0.0
            for name in ("engine", "model"):
                summary.setdefault(name, run_report.get(name))
            if (folder / "failures.jsonl").exists():
                try:
                    text = read_regular(folder / "failures.jsonl", limit=256 * 2**20, follow=False)
                except OSError:
                    text = b""
                failures += text.decode("utf-8", "replace").splitlines()
        summary.update(
            merged_from=[str(folder) for folder in inputs],
            out_dir=str(out_dir),
            corpus_total=merged.total,
            corpus_added=0,
            corpus_replaced=0,
            corpus_invalid_lines=[item["line"] for item in merged.invalid_lines],
            warnings=summary.get("warnings", []) + merged.warnings,
            seconds=round(time.perf_counter() - started, 3),
            cost_usd=round(summary["cost_usd"], 6),
            fetch=None,
            corpus_layout=layout,
            layout_change=moved,
        )
        if failures:
            write_text_atomic(out_dir / "failures.jsonl", redact("\n".join(failures) + "\n"))
        else:
            (out_dir / "failures.jsonl").unlink(missing_ok=True)
        write_json(out_dir / "run.json", summary)
        return summary
    finally:
        lock.release()

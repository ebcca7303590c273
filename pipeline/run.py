"""The run: sources → enrichment → engine (through the cache, `pipeline.dispatch`) → corpus → tables and feed,
and the report of what happened; `merge_outputs` for ``summarize merge``.

This module only drives the stages; each lives in its own module. Inputs are read and summarised in chunks, so
memory stays flat however large they are. It takes an ``on_progress`` callback so
the CLI can draw a progress bar without the library knowing about terminals.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline import corpus, rank, table
from pipeline.cache import SummaryCache
from pipeline.dispatch import Failure, Progress, Runner, RunReport
from pipeline.engines import Engine, get_engine
from pipeline.errors import FetchError, InputError, Interrupted, LockedError, OutputError
from pipeline.files import read_regular, sweep_stale, write_text_atomic
from pipeline.schema import Paper
from pipeline.secrets import redact, redact_deep
from pipeline.settings import Settings


def shard_of(paper_id: str, shards: int) -> int:
    """The shard of a paper: the same on every machine and Python version (SHA-256 of the id, not hash())."""
    return int.from_bytes(hashlib.sha256(paper_id.encode("utf-8")).digest()[:8], "big") % shards


def dedupe(papers: Iterable[Paper]) -> tuple[list[Paper], int]:
    """One paper per id: the newest arXiv version, else the last one seen."""
    chosen: dict[str, Paper] = {}
    dropped = 0
    for paper in papers:
        old = chosen.get(paper.id)
        if old is not None:
            dropped += 1
            if old.version is not None and paper.version is not None and paper.version < old.version:
                continue
        chosen[paper.id] = paper
    return list(chosen.values()), dropped


CHUNK = 2000  # papers read, enriched and summarised at a time: memory stays flat however large the input
RAY_CHUNK = 50_000  # with --executor ray: each chunk starts a pool of engine actors, so chunks are larger


def _chunks(
    items: Iterable[Paper | InputError], settings: Settings, fetch: Any, failures: list[Failure], size: int = CHUNK
) -> Iterator[list[Paper]]:
    """The usable papers of ``items`` in chunks; input errors go to ``failures``; a fetch that fails part-way
    keeps what arrived (the report says it failed). Each paper's 1-based place among them goes into its metadata
    (``position``), unless the source gave one."""
    chunk: list[Paper] = []
    position = 0
    try:
        for item in items:
            if isinstance(item, InputError):
                failures.append(
                    Failure(
                        id=f"{item.path}:{item.line}" if item.line else item.path,
                        stage="input",
                        error=item.reason,
                        source=item.path,
                        line=item.line,
                        title=item.title,
                    )
                )
            elif len(item.abstract) > settings.max_abstract_chars:
                failures.append(
                    Failure(
                        id=item.id,
                        stage="input",
                        source=item.source,
                        title=item.title,
                        error=f"abstract is {len(item.abstract):,} characters; the limit is "
                        f"{settings.max_abstract_chars:,} (setting max_abstract_chars)",
                    )
                )
            else:
                position += 1  # the source's order (a listing's trending rank): the tables' and the page's default
                item.meta.setdefault("position", position)
                chunk.append(item)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
    except FetchError as exc:
        if fetch is None:
            raise
        fetch.error = str(exc)
    if chunk:
        yield chunk


class _Enrichment:
    """--resolve / --full-text over a run's chunks: one pair of polite HTTP clients, lookups cached beside the
    summaries (``<cache_dir>/lookups``), one report."""

    def __init__(self, settings: Settings) -> None:
        from pipeline.sources.enrich import Enricher
        from pipeline.sources.http import http_for

        self.settings = settings
        self.store = SummaryCache(settings.cache_dir / "lookups")
        self.hub = http_for(settings)
        self.arxiv = http_for(settings, interval_s=settings.arxiv_interval_s)
        self.enricher = Enricher(self.store, hub=self.hub, arxiv=self.arxiv)

    def enrich(self, papers: list[Paper]) -> tuple[list[Paper], dict[str, str]]:
        return self.enricher.enrich(papers, resolve=self.settings.resolve, full_text=self.settings.full_text)

    def close(self) -> dict[str, Any]:
        self.store.close()
        self.hub.close()
        self.arxiv.close()
        return self.enricher.report.to_json()


def outputs(settings: Settings, ranking: Any = None, archive: str = "") -> corpus.Sink:
    """Everything rendered from the merged corpus in the same pass: the tables and, unless turned off, the feed.
    With a reader's ranking (`pipeline.rank.render`) the tables follow it and the feed holds its digest.
    ``archive``: the page's links to earlier periods (partitioned layout, `pipeline.archive`)."""
    tables = table.TableWriter(
        settings.out_dir, html_page=settings.html, title=settings.title, ranking=ranking, archive=archive
    )
    if not settings.feed:
        return tables
    from pipeline.feed import FeedWriter

    feed: Any = FeedWriter(
        settings.out_dir, title=settings.title, max_entries=settings.feed_max_entries, site_url=settings.site_url
    )
    if ranking is not None:
        from pipeline.rank.render import Chosen

        feed = Chosen(feed, ranking.chosen)
    return corpus.Fanout(tables, feed)


def _merge_ranked(settings: Settings, records: Any, drop: set[str]) -> tuple[corpus.MergeReport, dict[str, Any]]:
    """With interests: the corpus merged first (reader-independent), then ranked (ranking.jsonl), then the tables,
    page and feed rendered from it in the reader's order."""
    from pipeline.rank.render import rank_corpus

    merged = corpus.merge(settings.out_dir, records, sink=None, drop=drop)
    ranking = rank_corpus(settings.out_dir, settings)
    corpus.merge_corpora(settings.out_dir, [], sink=outputs(settings, ranking))
    return merged, ranking.summary


def _merge_partitioned(
    settings: Settings, records: Any, drop: set[str], inputs: list[Path] | None = None
) -> tuple[corpus.MergeReport, dict[str, Any] | None]:
    """``corpus_layout = "partitioned"`` (`pipeline.archive`): the run's records (or ``inputs``' corpora, for
    ``summarize merge``) upserted into the partitions they belong to, the changed archive periods rendered, then
    the digest (ranked for the reader when interests are set) as the tables, page and feed."""
    from pipeline import archive

    used: dict[str, Any] = {}

    def make_sink(links: str) -> corpus.Sink:
        ranking = None
        if rank.wanted(settings.interests):
            from pipeline.rank.render import rank_corpus

            ranking = rank_corpus(settings.out_dir, settings)
            used.update(ranking.summary)
        return outputs(settings, ranking, archive=links)

    if inputs is None:
        merged = archive.upsert_run(settings, records, drop, make_sink)
    else:
        merged = archive.upsert_merge(settings, inputs, make_sink)
    if not rank.wanted(settings.interests):
        (settings.out_dir / rank.RANKING_FILE).unlink(missing_ok=True)
    return merged, used or None


def _write_failures(out_dir: Path, failures: list[Failure]) -> None:
    path = out_dir / "failures.jsonl"
    if not failures:
        path.unlink(missing_ok=True)
        return
    # Whole or not at all, never through a link planted in the folder (like every output), secrets masked.
    text = "".join(json.dumps(asdict(failure), ensure_ascii=False) + "\n" for failure in failures)
    try:
        write_text_atomic(path, redact(text))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _redact_report(report: RunReport) -> None:
    """Secrets out of everything the report holds before it is printed or written (a key a server echoed into an
    error, a URL's user:password)."""
    for failure in report.failures:
        failure.error, failure.title = redact(failure.error), redact(failure.title)
        failure.source = redact(failure.source)
    for name in ("fetch", "enrich", "executor"):
        value = getattr(report, name, None)
        if isinstance(value, dict):
            setattr(report, name, redact_deep(value))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    try:
        write_text_atomic(path, redact(json.dumps(data, indent=2, ensure_ascii=False) + "\n"))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


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
    enrichment = _Enrichment(settings) if settings.resolve or settings.full_text else None
    seen: dict[str, int | None] = {}  # ids done in earlier chunks, with their arXiv version
    superseded: dict[str, str] = {}  # a title: id → the arXiv id it resolved to
    try:
        size = RAY_CHUNK if cluster is not None else CHUNK
        for chunk in _chunks(items, settings, fetch, input_failures, size):
            chunk, duplicates = dedupe(chunk)
            report.duplicates += duplicates
            if settings.shard:
                k, n = (int(x) for x in settings.shard.split("/"))
                mine = [p for p in chunk if shard_of(p.id, n) == k]
                report.other_shards += len(chunk) - len(mine)
                chunk = mine
            if enrichment is not None:
                chunk, replaced = enrichment.enrich(chunk)
                superseded.update(replaced)
                chunk, duplicates = dedupe(chunk)
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
    if fetch is not None:
        report.fetch = fetch.summary()
    report.failures[:0] = input_failures
    report.failed += len(input_failures)
    if not dry_run:
        # A record is superseded only by a record that exists: a resolved paper whose summary failed (or was not
        # sent, past --max-cost) leaves its old title: record in place.
        missing = {failure.id for failure in report.failures}
        drop = {old for old, new in superseded.items() if new not in missing}
        try:
            if settings.corpus_layout == "partitioned":
                merged, interests = _merge_partitioned(settings, runner.records, drop)
                if interests is not None:
                    report.interests = interests
            elif rank.wanted(settings.interests):
                from pipeline.archive import prepare

                prepare(settings.out_dir, "single")  # partitions folded back into corpus.jsonl first
                merged, report.interests = _merge_ranked(settings, runner.records, drop)
            else:
                from pipeline.archive import prepare

                prepare(settings.out_dir, "single")  # partitions folded back into corpus.jsonl first
                merged = corpus.merge(
                    settings.out_dir, runner.records, sink=outputs(settings), drop=drop
                )  # finishes or aborts the tables and the feed
                (settings.out_dir / rank.RANKING_FILE).unlink(missing_ok=True)  # no reader: no stale ranking
        except KeyboardInterrupt:
            raise _interrupted(report) from None
        report.corpus_superseded = merged.superseded
        report.corpus_total, report.corpus_added = merged.total, merged.added
        report.corpus_replaced, report.corpus_unchanged = merged.replaced, merged.unchanged
        report.corpus_invalid_lines = [item["line"] for item in merged.invalid_lines]
    report.seconds = round(time.perf_counter() - started, 3)
    _redact_report(report)
    if not dry_run:
        _write_failures(settings.out_dir, report.failures)
        _write_json(settings.out_dir / "run.json", report.to_json())
    return report


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
    from pipeline.archive import store, write

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
        if settings.corpus_layout == "partitioned":
            merged, _used = _merge_partitioned(settings, None, set(), inputs)
        elif rank.wanted(settings.interests):  # merged first, then ranked, then rendered in the reader's order
            from pipeline.rank.render import rank_corpus

            if store.is_partitioned(out_dir):
                write.to_single(out_dir)

            merged = corpus.merge_corpora(out_dir, inputs, sink=None, files_of=store.files_of)
            corpus.merge_corpora(out_dir, [], sink=outputs(settings, rank_corpus(out_dir, settings)))
        else:
            if store.is_partitioned(out_dir):  # corpus_layout = "single": the partitions folded back first
                write.to_single(out_dir)
            merged = corpus.merge_corpora(out_dir, inputs, sink=outputs(settings), files_of=store.files_of)
        from pipeline.deliver.state import merge_states

        merge_states(inputs, out_dir, settings.delivery.remember)  # what each folder's digests delivered
        summary: dict[str, Any] = {name: 0 for name in SUMMED}
        summary["cost_usd"] = 0.0
        failures: list[str] = []
        for folder in inputs:
            if folder.resolve() == out_dir.resolve():
                continue
            try:  # never through a link, never unbounded: a folder to merge is data, not trusted
                run_report = json.loads(read_regular(folder / "run.json", limit=64 * 2**20, follow=False))
            except (OSError, ValueError):
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
            seconds=round(time.perf_counter() - started, 3),
            cost_usd=round(summary["cost_usd"], 6),
            fetch=None,
        )
        if failures:
            write_text_atomic(out_dir / "failures.jsonl", redact("\n".join(failures) + "\n"))
        else:
            (out_dir / "failures.jsonl").unlink(missing_ok=True)
        _write_json(out_dir / "run.json", summary)
        return summary
    finally:
        lock.release()

"""The run: sources → engine (through the cache) → corpus → tables, and the report of what happened.

This module only drives the stages; each lives in its own module. It takes an ``on_progress`` callback so
the CLI can draw a progress bar without the library knowing about terminals.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline import corpus, table
from pipeline.cache import SummaryCache, cache_key
from pipeline.engines import Engine, EngineOutput, get_engine
from pipeline.errors import EngineError, FetchError, InputError, LockedError, OutputError
from pipeline.files import sweep_stale, write_text_atomic
from pipeline.schema import Paper, Record
from pipeline.settings import Settings

Progress = Callable[[int, int], None]


@dataclass
class Failure:
    id: str
    stage: str
    error: str
    source: str = ""
    line: int | None = None
    title: str = ""
    attempts: int = 0


@dataclass
class RunReport:
    engine: str
    model: str
    out_dir: str
    total: int = 0
    new: int = 0
    cached: int = 0
    failed: int = 0
    not_done: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    corpus_total: int = 0
    corpus_added: int = 0
    corpus_replaced: int = 0
    corpus_invalid_lines: list[int] = field(default_factory=list)
    cache_corrupted: int = 0
    cache_rebuilt: str | None = None
    enrich: dict[str, Any] | None = None
    shard: str | None = None
    other_shards: int = 0  # papers of the inputs left to the other shards
    corpus_superseded: int = 0
    input_errors: int = 0
    duplicates: int = 0
    budget_stopped: bool = False
    dry_run: bool = False
    estimated_cost_usd: float | None = None
    fetch: dict[str, Any] | None = None
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.not_done == 0 and (self.fetch is None or self.fetch["status"] == "ok")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("failures")
        data["cost_usd"] = round(self.cost_usd, 6)
        return data


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


def _key(engine: Engine, paper: Paper) -> str:
    text = paper.text + "\n" + " ".join(link.url for link in paper.links)
    return cache_key(
        text=text, engine=engine.name, model=engine.model, params=engine.params(), prompt_hash=engine.prompt_hash
    )


def to_cache(output: EngineOutput) -> dict[str, Any]:
    return {
        "summary": output.summary.model_dump(mode="json"),
        "evidence": output.evidence.model_dump(mode="json"),
        "provenance": output.provenance.model_dump(mode="json"),
    }


class Runner:
    """One run over a list of papers with one engine and one cache."""

    def __init__(self, settings: Settings, engine: Engine, cache: SummaryCache, *, refresh: bool = False):
        self.settings = settings
        self.engine = engine
        self.cache = cache
        self.refresh = refresh
        self.report = RunReport(engine=engine.name, model=engine.model, out_dir=str(settings.out_dir))
        self.records = corpus.Spool(settings.out_dir)  # sorted runs on disk past 20,000 records
        self.done = 0

    def lookup(self, paper: Paper) -> tuple[str, Record | None]:
        """The cache key of ``paper`` and its record rebuilt from the cache (None: a miss, or a row that no
        longer validates, which is then replaced)."""
        key = _key(self.engine, paper)
        if self.refresh:
            return key, None
        value = self.cache.get(key)
        if value is None:
            return key, None
        try:
            return key, Record.build(paper, value)
        except (KeyError, TypeError, ValueError):  # pydantic's ValidationError is a ValueError
            self.cache.corrupted += 1
            return key, None

    def accept_cached(self, record: Record) -> None:
        self.report.cached += 1
        self.records.add(corpus.line_of(record))

    def accept(self, key: str, paper: Paper, output: EngineOutput) -> None:
        """A fresh engine output: cached at once (an interrupted run never pays twice), then recorded."""
        value = to_cache(output)
        record = Record.build(paper, value)
        self.cache.set(key, value)
        self.report.new += 1
        p = output.provenance
        self.report.cost_usd += p.cost_usd
        self.report.input_tokens += p.input_tokens
        self.report.output_tokens += p.output_tokens
        self.records.add(corpus.line_of(record))

    def fail(self, paper: Paper, stage: str, error: Exception) -> None:
        attempts = getattr(error, "attempts", 0)
        self.report.failed += 1
        if isinstance(error, EngineError):  # failed attempts were still paid for
            self.report.input_tokens += error.input_tokens
            self.report.output_tokens += error.output_tokens
            self.report.cost_usd += error.cost_usd
        self.report.failures.append(
            Failure(
                id=paper.id,
                stage=stage,
                error=str(error)[:2000],
                source=paper.source,
                title=paper.title,
                attempts=attempts,
            )
        )

    def estimate(self, papers: list[Paper]) -> None:
        """--dry-run: tokens and cost of the papers not cached, from the rendered prompts; nothing is sent."""
        report = self.report
        for paper in papers:
            _, cached = self.lookup(paper)
            if cached is not None:
                report.cached += 1
                continue
            tokens_in, tokens_out, cost = self.engine.estimate(paper)
            report.new += 1
            report.input_tokens += tokens_in
            report.output_tokens += tokens_out
            report.estimated_cost_usd = (report.estimated_cost_usd or 0.0) + cost

    def run_async(self, papers: list[Paper], on_progress: Progress | None) -> None:
        """``concurrency`` workers pull papers and await the engine; each result is cached the moment it arrives."""
        if papers and hasattr(self.engine, "require_credentials"):
            self.engine.require_credentials()

        async def bounded() -> None:
            session = getattr(self.engine, "session", None)
            if session is None:
                await self._dispatch(papers, on_progress)
                return
            async with session():
                await self._dispatch(papers, on_progress)

        asyncio.run(bounded())

    async def _dispatch(self, papers: list[Paper], on_progress: Progress | None) -> None:
        queue: asyncio.Queue[Paper] = asyncio.Queue()
        for paper in papers:
            queue.put_nowait(paper)
        budget = _Budget(self)
        stopped = False

        async def worker() -> None:
            nonlocal stopped
            while not stopped:
                try:
                    paper = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                key, record = self.lookup(paper)
                if record is not None:
                    self.accept_cached(record)
                else:
                    cost = budget.cost(paper)
                    if not await budget.reserve(cost):
                        stopped = True
                        queue.put_nowait(paper)
                        return
                    try:
                        self.accept(key, paper, await self.engine.asummarize(paper))  # type: ignore[attr-defined]
                    except Exception as exc:  # one paper's failure never stops the others
                        self.fail(paper, "engine", exc)
                    finally:
                        await budget.release(cost)
                self.done += 1
                if on_progress:
                    on_progress(self.done, self.report.total)

        await asyncio.gather(*(worker() for _ in range(min(self.settings.concurrency, max(len(papers), 1)))))
        if stopped:
            self.report.budget_stopped = True
            rest = []
            while not queue.empty():
                rest.append(queue.get_nowait())
            self.not_sent(rest)

    def not_sent(self, papers: list[Paper]) -> None:
        """Papers left when the spend reached --max-cost: recorded as not done, never sent."""
        for paper in papers:
            self.report.not_done += 1
            self.report.failures.append(
                Failure(
                    id=paper.id,
                    stage="budget",
                    source=paper.source,
                    title=paper.title,
                    error=f"not sent: spend reached --max-cost ${self.settings.max_cost_usd:.4f}",
                )
            )

    def run_sync(self, papers: list[Paper], on_progress: Progress | None) -> None:
        batch = 256
        for start in range(0, len(papers), batch):
            with self.cache.batch():
                for paper in papers[start : start + batch]:
                    key, record = self.lookup(paper)
                    if record is not None:
                        self.accept_cached(record)
                    else:
                        try:
                            self.accept(key, paper, self.engine.summarize(paper))
                        except Exception as exc:  # one paper's failure never stops the others
                            self.fail(paper, "engine", exc)
                    self.done += 1
            if on_progress:
                on_progress(self.done, self.report.total)


CHUNK = 2000  # papers read, enriched and summarised at a time: memory stays flat however large the input


def _chunks(
    items: Iterable[Paper | InputError], settings: Settings, fetch: Any, failures: list[Failure]
) -> Iterator[list[Paper]]:
    """The usable papers of ``items`` in chunks; input errors go to ``failures``; a fetch that fails part-way
    keeps what arrived (the report says it failed)."""
    chunk: list[Paper] = []
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
                chunk.append(item)
                if len(chunk) >= CHUNK:
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
        from pipeline.sources.remote import http_for

        self.settings = settings
        self.store = SummaryCache(settings.cache_dir / "lookups")
        self.hub = http_for(settings)
        self.arxiv = http_for(settings, interval_s=settings.arxiv_interval_s)
        self.enricher = Enricher(self.store, hub=self.hub, arxiv=self.arxiv)

    def enrich(self, papers: list[Paper]) -> tuple[list[Paper], set[str]]:
        return self.enricher.enrich(papers, resolve=self.settings.resolve, full_text=self.settings.full_text)

    def close(self) -> dict[str, Any]:
        self.store.close()
        self.hub.close()
        self.arxiv.close()
        return self.enricher.report.to_json()


def outputs(settings: Settings) -> corpus.Sink:
    """Everything rendered from the merged corpus in the same pass: the tables and, unless turned off, the feed."""
    tables = table.TableWriter(settings.out_dir, html_page=settings.html, title=settings.title)
    if not settings.feed:
        return tables
    from pipeline.feed import FeedWriter

    feed = FeedWriter(
        settings.out_dir, title=settings.title, max_entries=settings.feed_max_entries, site_url=settings.site_url
    )
    return corpus.Fanout(tables, feed)


class _Budget:
    """--max-cost for requests in flight: each reserves its estimate (re-asks included) before it is sent and
    releases it when done, so spend stops under the cap however many requests run at once."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.cap = runner.settings.max_cost_usd
        self.reserved = 0.0
        self.changed = asyncio.Condition()

    def cost(self, paper: Paper) -> float:
        if self.cap is None:
            return 0.0
        return self.runner.engine.estimate(paper)[2] * (1 + self.runner.settings.max_retries)

    async def reserve(self, cost: float) -> bool:
        """Wait until ``cost`` fits beside what is spent and in flight; False when it never will."""
        async with self.changed:
            while True:
                spent = self.runner.report.cost_usd
                if self.cap is None or spent + self.reserved + cost <= self.cap:
                    self.reserved += cost
                    return True
                if self.reserved <= 0 or spent >= self.cap:
                    return False
                await self.changed.wait()  # requests in flight may cost less than reserved

    async def release(self, cost: float) -> None:
        async with self.changed:
            self.reserved -= cost
            self.changed.notify_all()


def _write_failures(out_dir: Path, failures: list[Failure]) -> None:
    path = out_dir / "failures.jsonl"
    if not failures:
        path.unlink(missing_ok=True)
        return
    with path.open("w", encoding="utf-8") as fh:
        for failure in failures:
            fh.write(json.dumps(asdict(failure), ensure_ascii=False) + "\n")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    try:
        write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
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
    engine = engine or get_engine(settings)
    cache = SummaryCache(settings.cache_dir)
    runner = Runner(settings, engine, cache, refresh=refresh)
    report = runner.report
    report.shard = settings.shard
    enrichment = _Enrichment(settings) if settings.resolve or settings.full_text else None
    seen: dict[str, int | None] = {}  # ids done in earlier chunks, with their arXiv version
    superseded: set[str] = set()
    try:
        for chunk in _chunks(items, settings, fetch, input_failures):
            chunk, duplicates = dedupe(chunk)
            report.duplicates += duplicates
            if settings.shard:
                k, n = (int(x) for x in settings.shard.split("/"))
                mine = [p for p in chunk if shard_of(p.id, n) == k]
                report.other_shards += len(chunk) - len(mine)
                chunk = mine
            if enrichment is not None:
                chunk, replaced = enrichment.enrich(chunk)
                superseded |= replaced
                chunk, duplicates = dedupe(chunk)
                report.duplicates += duplicates
            fresh = []
            for paper in chunk:  # a paper seen in an earlier chunk is done again only for a newer arXiv version
                if paper.id in seen:
                    report.duplicates += 1
                    old = seen[paper.id]
                    if paper.version is None or old is None or paper.version <= old:
                        continue
                else:
                    report.total += 1
                seen[paper.id] = paper.version
                fresh.append(paper)
            if report.budget_stopped:
                runner.not_sent(fresh)
            elif dry_run:
                runner.estimate(fresh)
            elif engine.is_async:
                runner.run_async(fresh, on_progress)
            else:
                runner.run_sync(fresh, on_progress)
        report.dry_run = dry_run
        report.cache_corrupted = cache.corrupted
        report.cache_rebuilt = cache.rebuilt
    finally:
        cache.close()
        if enrichment is not None:
            report.enrich = enrichment.close()
    report.input_errors = len(input_failures)
    if fetch is not None:
        report.fetch = fetch.summary()
    report.failures[:0] = input_failures
    report.failed += len(input_failures)
    if not dry_run:
        merged = corpus.merge(
            settings.out_dir, runner.records, sink=outputs(settings), drop=superseded
        )  # finishes or aborts the tables and the feed
        report.corpus_superseded = merged.superseded
        report.corpus_total, report.corpus_added = merged.total, merged.added
        report.corpus_replaced = merged.replaced
        report.corpus_invalid_lines = [item["line"] for item in merged.invalid_lines]
    report.seconds = round(time.perf_counter() - started, 3)
    if not dry_run:
        _write_failures(settings.out_dir, report.failures)
        _write_json(settings.out_dir / "run.json", report.to_json())
    return report


SUMMED = ("total", "new", "cached", "failed", "not_done", "duplicates", "input_errors", "input_tokens", "output_tokens")


def merge_outputs(inputs: list[Path], settings: Settings) -> dict[str, Any]:
    """``summarize merge``: several output folders (shards, machines) into ``settings.out_dir``: corpora merged
    (newest version per id, order-free, idempotent), tables and feed rendered again, run reports summed."""
    from filelock import FileLock, Timeout

    started = time.perf_counter()
    out_dir = settings.out_dir
    missing = [str(folder) for folder in inputs if not (folder / corpus.CORPUS_NAME).exists()]
    if missing:
        raise InputError(f"no corpus.jsonl in {', '.join(missing)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / ".summarize.lock"))
    try:
        lock.acquire(timeout=settings.lock_wait_s)
    except Timeout as exc:
        raise LockedError(f"another summarize run is writing to {out_dir}; wait for it, or use another --out") from exc
    try:
        sweep_stale(out_dir)
        merged = corpus.merge_corpora(out_dir, inputs, sink=outputs(settings))
        summary: dict[str, Any] = {name: 0 for name in SUMMED}
        summary["cost_usd"] = 0.0
        failures: list[str] = []
        for folder in inputs:
            if folder.resolve() == out_dir.resolve():
                continue
            try:
                run_report = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                run_report = {}
            for name in SUMMED:
                value = run_report.get(name)
                summary[name] += value if isinstance(value, int) else 0
            cost = run_report.get("cost_usd")
            summary["cost_usd"] += cost if isinstance(cost, (int, float)) else 0.0
            for name in ("engine", "model"):
                summary.setdefault(name, run_report.get(name))
            if (folder / "failures.jsonl").exists():
                failures += (folder / "failures.jsonl").read_text(encoding="utf-8", errors="replace").splitlines()
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
            write_text_atomic(out_dir / "failures.jsonl", "\n".join(failures) + "\n")
        else:
            (out_dir / "failures.jsonl").unlink(missing_ok=True)
        _write_json(out_dir / "run.json", summary)
        return summary
    finally:
        lock.release()

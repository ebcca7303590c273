"""The local executor: a list of papers with one engine and one cache, sync or async, bounded, budgeted, reported.

`Runner` looks each paper up in the cache, sends the misses to the engine (a thread of calls for the embedded
engine; ``concurrency`` async workers for an LLM, each request reserving its estimated cost under ``--max-cost``),
caches every result the moment it arrives, and spools the records for the corpus merge. `pipeline.run` drives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.cache import SummaryCache, cache_key
from pipeline.corpus.lines import line_of
from pipeline.corpus.spool import Spool
from pipeline.dispatch.ctrl_c import held
from pipeline.engines import Engine, EngineOutput
from pipeline.engines.pricing import BATCH_PRICE_FACTOR
from pipeline.errors import ConfigError, EngineError
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
    corpus_unchanged: int = 0
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
    estimated_batch_cost_usd: float | None = None
    fetch: dict[str, Any] | None = None
    executor: dict[str, Any] | None = None
    corpus_layout: str | None = None  # the layout the folder was written in (corpus_layout = "auto" decided)
    layout_change: str | None = None  # why this run moved the folder to the partitioned layout (once)
    interests: dict[str, Any] | None = None  # the reader's ranking: interests used, papers ranked and passed
    warnings: list[str] = field(default_factory=list)  # said once: a dry run's refusals, papers --authors cannot match
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.not_done == 0 and (self.fetch is None or self.fetch["status"] == "ok")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("failures")
        data["cost_usd"] = round(self.cost_usd, 6)
        return data


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
        self.records = Spool(settings.out_dir)  # sorted runs on disk past 20,000 records
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
        self.records.add(line_of(record))

    def accept(self, key: str, paper: Paper, output: EngineOutput) -> None:
        """A fresh engine output: cached at once (an interrupted run never pays twice), then recorded."""
        self.accept_value(key, paper, to_cache(output))

    def accept_value(self, key: str, paper: Paper, value: dict[str, Any]) -> None:
        """A fresh engine output as the cache stores it (from this process or a worker elsewhere)."""
        record = Record.build(paper, value)
        self.cache.set(key, value)
        self.report.new += 1
        p = record.provenance
        self.report.cost_usd += p.cost_usd
        self.report.input_tokens += p.input_tokens
        self.report.output_tokens += p.output_tokens
        self.records.add(line_of(record))

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
            if report.new == 0 and hasattr(self.engine, "require_credentials"):
                try:  # the real run refuses to start without the key: the dry run says so
                    self.engine.require_credentials()
                except ConfigError as exc:
                    report.warnings.append(f"the real run will refuse to start: {exc}")
            tokens_in, tokens_out, cost = self.engine.estimate(paper)
            report.new += 1
            report.input_tokens += tokens_in
            report.output_tokens += tokens_out
            report.estimated_cost_usd = (report.estimated_cost_usd or 0.0) + cost
            if self.settings.batch:
                report.estimated_batch_cost_usd = (report.estimated_batch_cost_usd or 0.0) + cost * BATCH_PRICE_FACTOR

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

        workers = min(self.settings.concurrency, getattr(self.engine, "capacity", None) or self.settings.concurrency)
        await asyncio.gather(*(worker() for _ in range(min(workers, max(len(papers), 1)))))
        if stopped:
            self.report.budget_stopped = True
            rest = []
            while not queue.empty():
                rest.append(queue.get_nowait())
            self.not_sent(rest)

    def answer_cached(self, papers: list[Paper]) -> list[tuple[str, Paper]]:
        """Where all misses are sent at once (a Ray cluster, a batch): hits recorded here, the misses (with their
        cache keys) returned."""
        misses: list[tuple[str, Paper]] = []
        with self.cache.batch():
            for paper in papers:
                key, record = self.lookup(paper)
                if record is not None:
                    self.accept_cached(record)
                    self.done += 1
                else:
                    misses.append((key, paper))
        return misses

    def admit(self, misses: list[tuple[str, Paper]], price_factor: float = 1.0) -> list[tuple[str, Paper]]:
        """--max-cost where requests are sent all at once (a Ray cluster, a batch): papers are admitted by their
        worst-case estimate (every re-ask paid) before anything is sent, so spend stays under the cap without a
        shared counter; the rest are recorded as not sent."""
        cap = self.settings.max_cost_usd
        if cap is None:
            return misses
        admitted: list[tuple[str, Paper]] = []
        planned = self.report.cost_usd
        left: list[Paper] = []
        for key, paper in misses:
            worst = self.engine.estimate(paper)[2] * (price_factor + self.settings.max_retries)
            if not left and planned + worst <= cap:
                planned += worst
                admitted.append((key, paper))
            else:
                left.append(paper)
        if left:
            self.report.budget_stopped = True
            self.not_sent(left)
            self.done += len(left)
        return admitted

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

    def summarize_here(self, misses: list[tuple[str, Paper]], on_progress: Progress | None) -> None:
        """Cache misses (with their keys) through a synchronous engine in this process. Ctrl-C stops it between
        two papers: the summaries of the batch are committed and counted, then the KeyboardInterrupt goes on up."""
        batch = 256
        with held() as ctrl_c:
            for start in range(0, len(misses), batch):
                with self.cache.batch():
                    for key, paper in misses[start : start + batch]:
                        try:
                            self.accept(key, paper, self.engine.summarize(paper))
                        except Exception as exc:  # one paper's failure never stops the others
                            self.fail(paper, "engine", exc)
                        self.done += 1
                        if ctrl_c.pressed:
                            break
                if ctrl_c.pressed:
                    break
                if on_progress:
                    on_progress(self.done, self.report.total)

    def run_sync(self, papers: list[Paper], on_progress: Progress | None) -> None:
        """A synchronous engine in this process: hits answered first, then the misses."""
        misses = self.answer_cached(papers)
        if on_progress:
            on_progress(self.done, self.report.total)
        self.summarize_here(misses, on_progress)


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

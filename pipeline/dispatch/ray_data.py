"""``--executor ray``: the cache misses of a run summarised on a Ray cluster with Ray Data.

The driver (this process) reads the inputs, answers from the cache what it already holds, and sends only the
misses through ``Dataset.map_batches`` to a pool of actors. Each actor builds its engine once (the embedded
engine, or an LLM engine with ``concurrency`` requests in flight per worker) and returns, per paper, the cached
value or the error as JSON text. The driver caches each result the moment its batch comes back (an interrupted
run never pays twice) and the corpus is merged as with the local executor, so both give the same records.

``RAY_ADDRESS`` (Ray's own variable) picks a running cluster, whose nodes need this package installed; without
it a local Ray starts with ``ray_workers`` CPUs (default: all) and stops at the end of the run.
Ray is an optional extra: ``pip install -e ".[ray]"``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from pipeline.dispatch.outcomes import decode_error, encode_error, summarize_json
from pipeline.errors import ConfigError, EngineError
from pipeline.schema import Paper

if TYPE_CHECKING:
    from pipeline.dispatch.runner import Progress, Runner
    from pipeline.settings import Settings

EMBEDDED_BATCH = 64  # papers per batch for the embedded engine: large enough that Ray's per-batch cost is small


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            '--executor ray needs Ray, an optional extra: pip install -e ".[ray]" (or pip install "ray[data]")'
        ) from exc
    return ray


class SummarizeBatch:
    """A Ray Data actor: one engine for its lifetime; a batch of papers (JSON text) in, values or errors out."""

    def __init__(self, settings_json: str) -> None:
        from pipeline.engines import get_engine
        from pipeline.settings import Settings

        self.settings = Settings.model_validate_json(settings_json)
        self.engine = get_engine(self.settings)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        papers = [Paper.model_validate_json(text) for text in batch["paper"]]
        outcomes = asyncio.run(self._async(papers)) if self.engine.is_async else [self._one(paper) for paper in papers]
        return {
            "key": list(batch["key"]),
            "value": [value for value, _ in outcomes],
            "error": [error for _, error in outcomes],
        }

    def _one(self, paper: Paper) -> tuple[str, str]:
        return summarize_json(self.engine, paper)

    async def _async(self, papers: list[Paper]) -> list[tuple[str, str]]:
        from pipeline.dispatch.runner import to_cache

        gate = asyncio.Semaphore(self.settings.concurrency)

        async def one(paper: Paper) -> tuple[str, str]:
            async with gate:
                try:
                    output = await self.engine.asummarize(paper)  # type: ignore[attr-defined]
                    return json.dumps(to_cache(output)), ""
                except Exception as exc:
                    return "", encode_error(exc)

        async with self.engine.session():  # type: ignore[attr-defined]
            return list(await asyncio.gather(*(one(paper) for paper in papers)))


class RayExecutor:
    """One Ray connection for a whole run (several chunks); the local Ray it started is stopped at the end."""

    def __init__(self, settings: Settings) -> None:
        self.ray = _ray()
        self.settings = settings
        self.started = False
        self._workers: int | None = None
        self.timings: dict[str, float] = {"connect_s": 0.0, "cluster_s": 0.0, "driver_s": 0.0, "sent": 0}

    def connect(self) -> None:
        ray = self.ray
        if ray.is_initialized():
            return
        began = time.perf_counter()
        quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
        if os.environ.get("RAY_ADDRESS"):
            ray.init(**quiet)  # the cluster RAY_ADDRESS names
        else:
            ray.init(num_cpus=self.settings.ray_workers or os.cpu_count() or 1, **quiet)
            self.started = True
        from ray.data import DataContext

        context = DataContext.get_current()
        context.enable_progress_bars = False  # the CLI draws one bar for the whole run
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # the report says what happened
        self.workers()
        self.timings["connect_s"] += time.perf_counter() - began

    def workers(self) -> int:
        """Actors in the pool: ``ray_workers``, else one per CPU of the cluster."""
        if self._workers is None:
            cpus = int(self.ray.cluster_resources().get("CPU", 1))
            self._workers = max(1, min(self.settings.ray_workers or cpus, cpus))
        return self._workers

    def run(self, runner: Runner, papers: list[Paper], on_progress: Progress | None) -> None:
        """Summarise ``papers`` through ``runner``'s cache and report: hits answered here, misses on the cluster."""
        misses = runner.admit(runner.answer_cached(papers))
        if on_progress:
            on_progress(runner.done, runner.report.total)
        if not misses:
            return
        if hasattr(runner.engine, "require_credentials"):
            runner.engine.require_credentials()
        self.connect()
        by_key = {key: paper for key, paper in misses}
        is_async = runner.engine.is_async
        batch_size = max(4 * self.settings.concurrency, EMBEDDED_BATCH) if is_async else EMBEDDED_BATCH
        blocks = max(1, min(-(-len(misses) // batch_size), 8 * self.workers()))
        workers = min(self.workers(), blocks)
        # Blocks are cut here, on the driver: a repartition would need CPU tasks while the actors hold every CPU.
        dataset = self.ray.data.from_items(
            [{"key": key, "paper": paper.model_dump_json()} for key, paper in misses], override_num_blocks=blocks
        )
        results = dataset.map_batches(
            SummarizeBatch,
            fn_constructor_kwargs={"settings_json": self.settings.model_dump_json()},
            batch_size=batch_size,
            batch_format="numpy",
            compute=self.ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        self.timings["sent"] += len(misses)
        began = time.perf_counter()
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            arrived = time.perf_counter()
            self.timings["cluster_s"] += arrived - began
            with runner.cache.batch():
                for key, value, error in zip(batch["key"], batch["value"], batch["error"]):
                    paper = by_key.pop(str(key))
                    if error:
                        runner.fail(paper, "engine", decode_error(str(error), paper.id))
                    else:
                        runner.accept_value(str(key), paper, json.loads(str(value)))
                    runner.done += 1
            if on_progress:
                on_progress(runner.done, runner.report.total)
            began = time.perf_counter()
            self.timings["driver_s"] += began - arrived
        for paper in by_key.values():  # never expected: a paper the cluster did not answer is reported, not lost
            runner.fail(paper, "engine", EngineError("the Ray cluster returned no result", paper_id=paper.id))

    def summary(self) -> dict[str, Any]:
        """For the run report: where a Ray run's time went (start or connect, waiting on the cluster, caching and
        recording the results here)."""
        return {
            "executor": "ray",
            "workers": self._workers,
            "papers_sent": self.timings["sent"],
            **{name: round(float(value), 3) for name, value in self.timings.items() if name != "sent"},
        }

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()
            self.started = False

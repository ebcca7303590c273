"""The embedded engine on every core of this machine: a chunk's cache misses summarised by worker processes.

The embedded engine is CPU-bound Python, so one process uses one core. With more than one worker (``workers``,
default one per CPU) the local executor sends a chunk's cache misses, `BATCH` papers at a time, to a pool of
worker processes that each build their own engine from the run's settings, and caches and records every answer
here as it comes back: the records are the ones a single process writes. A chunk with fewer than `MIN_MISSES`
misses stays in this process (a worker takes most of a second to start). Workers are spawned, not forked: the
driver holds a progress-bar thread and an open SQLite cache, which a fork would copy mid-use.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from pipeline.dispatch.outcomes import decode_error, encode_error, summarize_json
from pipeline.errors import EngineError
from pipeline.schema import Paper

if TYPE_CHECKING:
    from pipeline.dispatch.runner import Progress, Runner
    from pipeline.settings import Settings

BATCH = 64  # papers per task: large enough that pickling and the round trip are a small share
MIN_MISSES = 2 * BATCH
_engine: Any = None  # the worker's engine, built once by `_start`


def _start(settings_json: str) -> None:
    global _engine
    from pipeline.engines import get_engine
    from pipeline.settings import Settings

    _engine = get_engine(Settings.model_validate_json(settings_json))


def _summarize(papers: list[str]) -> list[tuple[str, str]]:
    return [summarize_json(_engine, Paper.model_validate_json(text)) for text in papers]


class ProcessPool:
    """Worker processes for one run, started on first use and shut down by `close`."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self.sent = 0

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(self.settings.model_dump_json(),),
            )
        return self._pool

    def run(self, runner: Runner, papers: list[Paper], on_progress: Progress | None) -> None:
        """Hits answered here; misses on the workers, at most two tasks a worker in flight (memory stays flat)."""
        misses = runner.answer_cached(papers)
        if on_progress:
            on_progress(runner.done, runner.report.total)
        if len(misses) < MIN_MISSES:
            runner.summarize_here(misses, on_progress)
            return
        pool = self._executor()
        self.sent += len(misses)
        blocks = [misses[i : i + BATCH] for i in range(0, len(misses), BATCH)]
        pending: deque[tuple[list[tuple[str, Paper]], Future[list[tuple[str, str]]]]] = deque()
        queued = iter(blocks)
        for block, outcomes in self._ordered(pool, queued, pending):
            with runner.cache.batch():
                for (key, paper), (value, error) in zip(block, outcomes):
                    if error:
                        runner.fail(paper, "engine", decode_error(error, paper.id))
                    else:
                        try:
                            runner.accept_value(key, paper, json.loads(value))
                        except Exception as exc:  # as in this process: one paper's failure never stops the others
                            runner.fail(paper, "engine", exc)
                    runner.done += 1
            if on_progress:
                on_progress(runner.done, runner.report.total)

    def _ordered(
        self,
        pool: ProcessPoolExecutor,
        queued: Iterator[list[tuple[str, Paper]]],
        pending: deque[tuple[list[tuple[str, Paper]], Future[list[tuple[str, str]]]]],
    ) -> Iterator[tuple[list[tuple[str, Paper]], list[tuple[str, str]]]]:
        def submit() -> bool:
            block = next(queued, None)
            if block is None:
                return False
            pending.append((block, pool.submit(_summarize, [paper.model_dump_json() for _, paper in block])))
            return True

        for _ in range(2 * self.workers):
            if not submit():
                break
        while pending:
            block, future = pending.popleft()
            try:
                outcomes = future.result()
            except Exception as exc:  # a worker died (killed, out of memory): its papers are reported, not lost
                error = EngineError(f"a worker process failed: {exc!r}"[:2000])
                outcomes = [("", encode_error(error))] * len(block)
            submit()
            yield block, outcomes

    def summary(self) -> dict[str, Any]:
        """For the run report: how many workers, and how many papers went to them (0: every chunk stayed here)."""
        return {"executor": "processes", "workers": self.workers, "papers_sent": self.sent}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

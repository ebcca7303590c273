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
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import TYPE_CHECKING, Any

from pipeline.dispatch.ctrl_c import held
from pipeline.dispatch.outcomes import decode_error, summarize_json
from pipeline.schema import Paper

if TYPE_CHECKING:
    from pipeline.dispatch.runner import Progress, Runner
    from pipeline.settings import Settings

BATCH = 64  # papers per task: large enough that pickling and the round trip are a small share
MIN_MISSES = 2 * BATCH
PARENT_CHECK_S = 0.5
_engine: Any = None  # the worker's engine, built once by `_start`


def _start(settings_json: str, driver: int) -> None:
    global _engine
    threading.Thread(target=_exit_with_driver, args=(driver,), daemon=True).start()
    from pipeline.engines import get_engine
    from pipeline.settings import Settings

    _engine = get_engine(Settings.model_validate_json(settings_json))


def _exit_with_driver(driver: int) -> None:
    """A driver killed outright (``kill -9``) cannot shut its pool down, and the workers' task queue never reads
    end-of-file (each worker holds both ends of its pipe): a worker leaves once the driver is no longer its parent.
    The driver's pid comes from the driver itself: a worker that starts after the driver died has already been
    handed to another parent."""
    while os.getppid() == driver:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


class _WorkerProcess(SpawnProcess):
    """Ctrl-C in a terminal reaches the whole process group; a worker is spawned with SIGINT ignored (kept across
    spawn's exec, before the worker imports anything), so only the driver stops, and it shuts the pool down. Only
    the spawn itself ignores it (a submit that starts no worker holds a Ctrl-C, `held`): a Ctrl-C in the instant
    a worker is spawned is not seen."""

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            super().start()
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            super().start()
        finally:
            signal.signal(signal.SIGINT, previous)


class _WorkerContext(SpawnContext):
    Process = _WorkerProcess


def _summarize(papers: list[str]) -> list[tuple[str, str]]:
    return [summarize_json(_engine, Paper.model_validate_json(text)) for text in papers]


class ProcessPool:
    """Worker processes for one run, started on first use and shut down by `close`."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self.sent = 0  # papers the workers summarised
        self.given_up: str | None = None  # why the pool was given up, if it was
        self.started = False  # whether any worker process was started

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self.started = True
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_WorkerContext(),
                initializer=_start,
                initargs=(self.settings.model_dump_json(), os.getpid()),
            )
        return self._pool

    def run(self, runner: Runner, papers: list[Paper], on_progress: Progress | None) -> None:
        """Hits answered here; misses on the workers, at most two tasks a worker in flight (memory stays flat).

        If a worker dies (killed, out of memory), the pool is given up and the papers not yet recorded, the dead
        task's included, are summarised in this process for the rest of the run: nothing is lost, the report says so.
        """
        misses = runner.answer_cached(papers)
        if on_progress:
            on_progress(runner.done, runner.report.total)
        if len(misses) < MIN_MISSES or self.given_up is not None:
            runner.summarize_here(misses, on_progress)
            return
        self.sent += len(misses)
        blocks = deque(misses[i : i + BATCH] for i in range(0, len(misses), BATCH))
        pending: deque[tuple[list[tuple[str, Paper]], Future[list[tuple[str, str]]]]] = deque()
        while blocks or pending:
            try:
                pool = self._executor()
                while blocks and len(pending) < 2 * self.workers:
                    texts = [paper.model_dump_json() for _, paper in blocks[0]]
                    with held():  # a Ctrl-C is raised after the submit (which may spawn a worker), never inside it
                        future = pool.submit(_summarize, texts)
                    pending.append((blocks.popleft(), future))
                outcomes = pending[0][1].result()
            except Exception as exc:  # BrokenProcessPool, or a task that could not be sent or read back
                self.given_up = f"{type(exc).__name__}: {exc}"[:500]
                self.close()
                rest = [item for block, _ in pending for item in block] + [item for block in blocks for item in block]
                self.sent -= len(rest)
                runner.summarize_here(rest, on_progress)
                return
            self._record(runner, pending.popleft()[0], outcomes, on_progress)

    @staticmethod
    def _record(
        runner: Runner, block: list[tuple[str, Paper]], outcomes: list[tuple[str, str]], on_progress: Progress | None
    ) -> None:
        with held(), runner.cache.batch():  # Ctrl-C: the block is recorded and committed, then the run stops
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

    def summary(self) -> dict[str, Any]:
        """For the run report, what ran: worker processes (how many, the papers they summarised, why the pool was
        given up, if it was), or this process alone when no chunk had enough cache misses to start a worker."""
        if not self.started:
            return {
                "executor": "local",
                "workers": 1,
                "papers_sent": 0,
                "given_up": None,
                "why": f"no chunk had {MIN_MISSES} cache misses (worker processes start only for that many): "
                "every paper was summarised in this process",
            }
        return {"executor": "processes", "workers": self.workers, "papers_sent": self.sent, "given_up": self.given_up}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

"""Corpus lines sorted by id in bounded memory: the `Spool`."""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from pipeline.corpus.lines import Line, MergeReport, _duplicate, _one_per_id, _wins
from pipeline.files import temp_beside

SPOOL_LINES = 20_000  # lines a spool holds in memory before it writes a sorted run to disk


class Spool:
    """Lines kept sorted by id in bounded memory: past `SPOOL_LINES` they go to sorted run files beside the
    corpus (``.spool-*.tmp``, swept like every temporary file), merged back in one streaming pass by `lines`.

    A run's records, and an existing corpus that is not sorted, both go through it, so memory stays flat however
    large either is.
    """

    def __init__(self, folder: Path, limit: int | None = None) -> None:
        self.folder = folder
        self.limit = SPOOL_LINES if limit is None else limit  # read when the spool is made, not when defined
        self.memory: list[tuple[str, int, Line]] = []
        self.runs: list[Path] = []
        self.count = 0

    def add(self, line: Line) -> None:
        self.count += 1
        self.memory.append((line.id, self.count, line))
        if len(self.memory) >= self.limit:
            self._spill()

    def __len__(self) -> int:
        return self.count

    def _spill(self) -> None:
        self.memory.sort(key=lambda item: (item[0], item[1]))
        path, fh = temp_beside(self.folder / f"spool-{os.getpid()}-{len(self.runs)}", "wb")  # .spool-….tmp
        with fh:
            for key, seq, line in self.memory:
                fh.write(orjson.dumps([key, seq, line.version, line.number, line.text]) + b"\n")
        self.runs.append(path)
        self.memory = []

    @staticmethod
    def _read(path: Path) -> Iterator[tuple[str, int, Line]]:
        with path.open("rb") as fh:
            for raw in fh:
                key, seq, version, number, text = orjson.loads(raw)
                yield key, seq, Line(key, text, version, None, number)

    def lines(self, *, keep: str = "latest", report: MergeReport | None = None) -> Iterable[Line]:
        """Every line once per id, in id order. ``keep="latest"``: of one id, the line added last wins unless it
        is an older arXiv version (a run's records); ``keep="first"``: the first wins and the others are
        reported as duplicates (an existing corpus)."""
        self.memory.sort(key=lambda item: (item[0], item[1]))
        streams = [self._read(path) for path in self.runs] + [iter(self.memory)]
        ordered = (line for _key, _seq, line in heapq.merge(*streams, key=lambda item: (item[0], item[1])))

        def first(kept: Line, other: Line) -> Line:
            if report is not None:
                _duplicate(other, report)
            return kept

        def latest(kept: Line, other: Line) -> Line:
            return other if _wins(other, kept) else kept

        return _one_per_id(ordered, first if keep == "first" else latest)

    def close(self) -> None:
        for path in self.runs:
            path.unlink(missing_ok=True)
        self.runs, self.memory = [], []

"""``summarize leaderboard``'s three forms: lines for a terminal (every corpus text made terminal-safe at this
edge), one JSON document, and CSV (one row per entry, cells that a spreadsheet would run as formulas quoted)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import IO

from pipeline.leaderboard.board import Board

CSV_COLUMNS = (
    "dataset",
    "metric",
    "better",
    "rank",
    "value",
    "number",
    "unit",
    "id",
    "title",
    "published",
    "url",
    "subject",
    "sentence",
)
_SENTENCE_LIMIT = 300


def _short(text: str, limit: int = _SENTENCE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def text_lines(boards: Sequence[Board], top: int | None = None) -> list[str]:
    """Each board: its name, direction and paper count, then its entries (``top`` per board when given): rank,
    value as written, title, date, id, and the sentence that states it. Rich markup, for `rich.Console.print`."""
    from pipeline.report import terminal_safe as safe

    lines: list[str] = []
    for board in boards:
        better = "lower is better" if board.direction == "lower" else "higher is better"
        lines.append(
            f"[bold]{safe(board.dataset)} · {safe(board.metric)}[/bold]  [dim]({better}, {len(board.entries)} papers)"
            "[/dim]"
        )
        shown = board.entries if top is None else board.entries[:top]
        width = max(len(safe(e.value)) for e in shown)
        for n, entry in enumerate(shown, 1):
            when = f" ({safe(entry.published)})" if entry.published else ""
            lines.append(
                f"  {n:>2}. [bold]{safe(entry.value):<{width}}[/bold]  {safe(_short(entry.title, 120))}{when}"
                f"  [dim]{safe(entry.id)}[/dim]"
            )
            if entry.sentence:
                lines.append(f"      [dim]“{safe(_short(entry.sentence))}”[/dim]")
        if len(shown) < len(board.entries):
            lines.append(f"      [dim]… {len(board.entries) - len(shown)} more (--top, --json or --csv for all)[/dim]")
        lines.append("")
    return lines


def to_json(boards: Sequence[Board], records: int) -> str:
    """One JSON document: the corpus's record count and every board, entries best first."""
    return json.dumps({"records": records, "boards": [b.as_dict() for b in boards]}, ensure_ascii=False, indent=1)


def write_csv(boards: Sequence[Board], fh: IO[str]) -> int:
    """One row per entry, board by board; returns the rows written. Cells starting = + - @ are quoted with ' (as
    in ``summarize export``): a value written "-3.2" or "=1+2" reads as text in a spreadsheet, never a formula;
    the ``number`` column is the float itself."""
    from pipeline.table import _csv_cell

    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for board in boards:
        for n, e in enumerate(board.entries, 1):
            text = [board.dataset, board.metric, board.direction, str(n), e.value, e.unit, e.id, e.title, e.published]
            text = [_csv_cell(" ".join(c.split())) for c in (*text, e.url or "", e.subject, e.sentence)]
            writer.writerow([*text[:5], repr(e.number), *text[5:]])  # the number is ours: a float, never a formula
            rows += 1
    return rows

"""What a person sees: the progress bar during a run and the one-screen report after it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.run import Progress, RunReport


@contextmanager
def progress_bar(*, enabled: bool = True) -> Iterator[Progress | None]:
    """A rich progress bar on stderr when it is a terminal; otherwise nothing at all."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("summarising"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("papers", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_report(report: RunReport, *, as_json: bool = False) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    if as_json:
        print(json.dumps(report.to_json(), indent=2))
        return
    console = Console()
    title = "dry run (nothing sent)" if report.dry_run else f"run finished in {report.seconds:.2f} s"
    grid = Table(title=title, show_header=False, box=None, pad_edge=False)
    grid.add_column(style="bold")
    grid.add_column()
    rows: list[tuple[str, Any]] = [
        ("engine", f"{report.engine} ({report.model})"),
        ("papers", report.total),
        ("new", report.new),
        ("cached", report.cached),
        ("failed", report.failed),
    ]
    if report.not_done:
        rows.append(("not done", f"{report.not_done} (budget reached)"))
    if report.duplicates:
        rows.append(("duplicates merged", report.duplicates))
    rows.append(("cost", f"${report.cost_usd:.4f} ({report.input_tokens} in / {report.output_tokens} out tokens)"))
    if report.estimated_cost_usd is not None:
        rows.append(("estimated cost", f"${report.estimated_cost_usd:.4f}"))
    if not report.dry_run:
        rows.append(
            ("corpus", f"{report.corpus_total} records (+{report.corpus_added} new, {report.corpus_replaced} updated)")
        )
        rows.append(("outputs", str(Path(report.out_dir) / "corpus.jsonl") + ", comparison.md/.csv/.html, run.json"))
    if report.corpus_invalid_lines:
        lines = ", ".join(map(str, report.corpus_invalid_lines[:10]))
        rows.append(("corpus problems", f"invalid line(s) {lines}: kept in corpus.rejected.jsonl"))
    if report.cache_corrupted:
        rows.append(("cache", f"{report.cache_corrupted} corrupted entr(y/ies) replaced"))
    for name, value in rows:
        grid.add_row(name, str(value))
    console.print(grid)
    for failure in report.failures[:10]:
        where = f"{failure.source}:{failure.line}" if failure.line else failure.id
        console.print(
            f"[red]failed[/red] \\[{failure.stage}] {where}: {escape(failure.error)}", highlight=False, soft_wrap=True
        )
    if len(report.failures) > 10:
        console.print(f"... and {len(report.failures) - 10} more in failures.jsonl")


def print_eval(result: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{path}: {result['abstracts']} abstracts, {result['sentences']} sentences")
    for column in ("role", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "role" else "right")
    for role, m in result["per_role"].items():
        table.add_row(role, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    console = Console()
    console.print(table)
    console.print(
        f"micro-F1 {result['micro_f1']:.4f}   macro-F1 {result['macro_f1']:.4f}   "
        f"{result['sentences_per_s']:,} sentences/s"
    )


def print_field_eval(result: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{path}: fields of {result['model']} on {result['abstracts']} abstracts"))
    for column in ("field", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for name, m in result["fields"].items():
        table.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}")
    console = Console()
    console.print(table)
    console.print(
        f"key result is a result sentence: {result['key_result_precision']:.3f} "
        f"(shown for {result['key_result_coverage']:.0%} of abstracts); failed: {result['failed']}"
    )


def print_tldr_eval(result: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console().print(
        escape(f"{path}: tldr of {result['model']} on {result['papers']} papers: ")
        + f"ROUGE-1 {result['rouge1']:.2f}  ROUGE-2 {result['rouge2']:.2f}  ROUGE-L {result['rougeL']:.2f}  "
        f"({result['mean_words']} words on average; failed: {result['failed']})"
    )


def markdown_report(out_dir: Path) -> str:
    """The run report of ``out_dir/run.json`` as Markdown (for a CI job summary)."""
    path = out_dir / "run.json"
    if not path.exists():
        return f"No run report in `{out_dir}`: the run did not get as far as writing one.\n"
    run = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        f"Engine **{run['engine']}** (`{run['model']}`) in {run['seconds']:.1f} s.",
        "",
        "| papers | new | cached | failed | not done | cost | corpus |",
        "|---|---|---|---|---|---|---|",
        f"| {run['total']} | {run['new']} | {run['cached']} | {run['failed']} | {run['not_done']} | "
        f"${run['cost_usd']:.4f} | {run['corpus_total']} records (+{run['corpus_added']}) |",
    ]
    failures = out_dir / "failures.jsonl"
    if failures.exists():
        lines += ["", "Failures:", ""]
        for line in failures.read_text(encoding="utf-8").splitlines()[:20]:
            item = json.loads(line)
            error = str(item["error"]).replace("|", "\\|").replace("\n", " ")[:300]
            lines.append(f"- `{item['id']}` ({item['stage']}): {error}")
    return "\n".join(lines) + "\n"

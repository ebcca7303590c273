"""What a person sees: the progress bar during a run and the one-screen report after it."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.dispatch import Progress, RunReport
from pipeline.errors import OutputError, printable


def terminal_safe(text: object) -> str:
    """Untrusted text for a terminal line: control characters (ANSI escapes, bidi overrides) removed, rich
    markup escaped, newlines folded, so an id or title cannot recolour, move or rewrite the screen."""
    from rich.markup import escape

    return escape(printable(" ".join(str(text).split())))


def markdown_safe(text: object, limit: int = 300) -> str:
    """Untrusted text for one Markdown line (GitHub job summaries): no HTML, links, code spans or table breaks."""
    from pipeline.table import md_cell

    return md_cell(printable(" ".join(str(text).split()))[:limit])


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


def print_report(report: RunReport, *, as_json: bool = False, verbose: bool = False) -> None:
    """The one-screen report; ``verbose`` adds how the work was spread (why no worker process started)."""
    from rich.console import Console
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
        ("not cached" if report.dry_run else "new", report.new),
        ("cached", report.cached),
        ("failed", report.failed),
    ]
    if report.not_done:
        rows.append(("not done", f"{report.not_done} (budget reached)"))
    if report.duplicates:
        rows.append(("duplicates merged", report.duplicates))
    ran = report.executor or {}
    if ran.get("executor") == "processes":
        gave_up = f"; given up ({ran['given_up']}), the rest summarised here" if ran.get("given_up") else ""
        rows.append(("executor", f"{ran['workers']} worker processes, {ran['papers_sent']} papers sent{gave_up}"))
    elif ran.get("executor") == "local" and ran.get("why") and verbose:
        rows.append(("executor", "this process: " + ran["why"].partition(": ")[0]))
    tokens = f"{report.input_tokens} in / {report.output_tokens} out tokens"
    if report.dry_run:  # nothing was spent: every number is an estimate
        estimate = report.estimated_cost_usd or 0.0
        rows.append(("estimate", f"${estimate:.4f} for about {tokens}, for the {report.new} papers not cached"))
    else:
        rows.append(("cost", f"${report.cost_usd:.4f} ({tokens})"))
    if report.estimated_batch_cost_usd is not None:
        rows.append(("with --batch", f"${report.estimated_batch_cost_usd:.4f} (batch prices)"))
    if not report.dry_run:
        unchanged = f", {report.corpus_unchanged} unchanged" if report.corpus_unchanged else ""
        rows.append(
            (
                "corpus",
                f"{report.corpus_total} records (+{report.corpus_added} new, {report.corpus_replaced} updated"
                f"{unchanged})",
            )
        )
        folder = Path(report.out_dir)  # a partitioned corpus (docs/archive.md): corpus/ and archive/
        kept = "corpus/" if (folder / "corpus").is_dir() else "corpus.jsonl"
        archive = ", archive/" if (folder / "archive").is_dir() else ""
        ranking = ", ranking.jsonl" if report.interests else ""
        rows.append(
            ("outputs", str(folder / kept) + ", comparison.md/.csv/.html, feed.xml, run.json" + ranking + archive)
        )
        if report.interests:
            rows.append(("ranking", ranking_line(report.interests)))
        if report.layout_change:
            rows.append(("layout", report.layout_change))
    if report.enrich:
        e = report.enrich
        rows.append(
            (
                "enriched",
                f"{e['resolved']} resolved to arXiv ids, {e['unresolved']} unresolved; {e['on_hub']} on the Hub; "
                f"{e['full_text_links']} links from {e['full_text_papers']} full texts; {e['requests']} requests, "
                f"{e['lookups_cached']} lookups cached; {e['failed']} failed",
            )
        )
    library = (report.interests or {}).get("library") if isinstance(report.interests, dict) else None
    for read in (library or {}).get("files", []):
        rows.append(("library", read.get("read", read.get("path"))))
    if report.corpus_superseded:
        rows.append(("superseded", f"{report.corpus_superseded} record(s) now known by their arXiv id"))
    if report.corpus_invalid_lines:
        lines = ", ".join(map(str, report.corpus_invalid_lines[:10]))
        rows.append(("corpus problems", f"invalid line(s) {lines}: kept in corpus.rejected.jsonl"))
    if report.cache_rebuilt:
        rows.append(("cache", f"the cache database was unreadable: moved aside to {report.cache_rebuilt}, rebuilt"))
    if report.cache_corrupted:
        rows.append(("cache", f"{report.cache_corrupted} corrupted entr(y/ies) replaced"))
    for name, value in rows:
        grid.add_row(name, terminal_safe(value))
    console.print(grid)
    for warning in report.warnings:
        Console(stderr=True).print(f"[yellow]warning:[/yellow] {terminal_safe(warning)}", highlight=False)
    for failure in report.failures[:10]:
        where = f"{failure.source}:{failure.line}" if failure.line else failure.id
        console.print(
            f"[red]failed[/red] \\[{failure.stage}] {terminal_safe(where)}: {terminal_safe(failure.error)}",
            highlight=False,
            soft_wrap=True,
        )
    if len(report.failures) > 10:
        console.print(f"... and {len(report.failures) - 10} more in failures.jsonl")


def ranking_line(used: dict[str, Any]) -> str:
    """What the ranking did, in a reader's words: what it ranked by, how many papers, how many in the digest."""
    library = used.get("library") or {}
    parts = []
    if library:
        bare = library.get("without_abstract") or 0
        note = f" ({bare} without abstract: known by their title only)" if bare else ""
        parts.append(f"{library.get('entries', 0)} library entries{note}")
    if used.get("keywords"):
        parts.append(f"{len(used['keywords'])} keyword(s)")
    if used.get("authors"):
        parts.append(f"{len(used['authors'])} author(s) followed")
    top = f"{used.get('passed', 0)} in the digest and feed"
    return f"{used.get('ranked', 0)} papers ranked by " + ", ".join(parts or ["nothing"]) + f"; {top}"


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
    for column in ("field", "precision", "recall", "F1", "empty"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for name, m in result["fields"].items():
        table.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", f"{m['empty']:.1%}")
    console = Console()
    console.print(table)
    console.print(
        f"key result is a result sentence: {result['key_result_precision']:.3f} "
        f"(shown for {result['key_result_coverage']:.0%} of abstracts); failed: {result['failed']}"
    )
    _print_failure_reasons(console, result)


def print_tldr_eval(result: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(
        escape(f"{path}: tldr of {result['model']} on {result['papers']} papers: ")
        + f"ROUGE-1 {result['rouge1']:.2f}  ROUGE-2 {result['rouge2']:.2f}  ROUGE-L {result['rougeL']:.2f}  "
        f"({result['mean_words']} words on average; failed: {result['failed']})"
    )
    _print_failure_reasons(console, result)


def print_llm_field_eval(result: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    title = f"{path}: cells of {result['model']} against the LLM's fields, {result['papers']} papers"
    table = Table(title=escape(title))
    for column in ("cell", "ROUGE-1", "oracle", "of oracle", "empty", "ROUGE-1 where shown"):
        table.add_column(column, justify="left" if column == "cell" else "right")
    for name, m in result["fields"].items():
        cells = (
            f"{m['rouge1']:.2f}",
            f"{m['oracle']:.2f}",
            f"{m['ratio']:.3f}",
            f"{m['empty']:.1%}",
            f"{m['shown']:.2f}",
        )
        table.add_row(name, *cells)
    console = Console()
    console.print(table)
    console.print(
        f"key result is the sentence closest to the LLM's result: {result['key_result_agreement']:.3f}; "
        f"failed: {result['failed']}"
    )
    _print_failure_reasons(console, result)
    if result.get("groups"):
        console.print(_group_table(result["groups"]))


def _group_table(groups: dict[str, Any]) -> Any:
    """One row per field group: each cell's share of its oracle and empty share, agreement, failures."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="by field group (of oracle, empty)")
    for column in ("group", "papers", "tldr", "problem", "method", "key result", "agreement", "failed"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for name, g in groups.items():
        cells = [f"{m['ratio']:.3f} ({m['empty']:.0%})" for m in g["fields"].values()]
        table.add_row(escape(name), str(g["papers"]), *cells, f"{g['key_result_agreement']:.3f}", str(g["failed"]))
    return table


def _print_failure_reasons(console: Any, result: dict[str, Any]) -> None:
    """Why the engine failed papers (the commonest reasons): a model's answers are untrusted text."""
    from rich.markup import escape

    for item in result.get("failure_reasons") or []:
        console.print(f"  {item['papers']} failed: " + escape(terminal_safe(item["reason"])), highlight=False)


def markdown_report(out_dir: Path) -> str:
    """The run report of ``out_dir/run.json`` as Markdown (for a CI job summary)."""
    path = out_dir / "run.json"
    if not path.exists():
        return f"No run report in `{markdown_safe(out_dir)}`: the run did not get as far as writing one.\n"
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(run, dict):
            raise ValueError("not a JSON object")
        lines = [
            f"Engine **{markdown_safe(run['engine'])}** (model {markdown_safe(run['model'])}) "
            f"in {float(run['seconds']):.1f} s.",
            "",
            "| papers | new | cached | failed | not done | cost | corpus |",
            "|---|---|---|---|---|---|---|",
            f"| {int(run['total'])} | {int(run['new'])} | {int(run['cached'])} | {int(run['failed'])} | "
            f"{int(run['not_done'])} | ${float(run['cost_usd']):.4f} | {int(run['corpus_total'])} records "
            f"(+{int(run['corpus_added'])}) |",
        ]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise OutputError(
            f"{path} is not a run report ({type(exc).__name__}: {exc}); run `summarize run` again to rewrite it"
        ) from exc
    failures = out_dir / "failures.jsonl"
    if failures.exists():
        lines += ["", "Failures:", ""]
        for line in failures.read_text(encoding="utf-8", errors="replace").splitlines()[:20]:
            try:
                item = json.loads(line)
                lines.append(
                    f"- {markdown_safe(item['id'], 200)} ({markdown_safe(item['stage'], 20)}): "
                    f"{markdown_safe(item['error'])}"
                )
            except (ValueError, KeyError, TypeError):
                lines.append("- (an unreadable line of failures.jsonl)")
    return "\n".join(lines) + "\n"


_SECRET_SETTINGS = ("webhook",)  # values that are secrets: said to be set, never printed


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    """One TOML value (the settings hold text, numbers, booleans, paths, lists and tables of those)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    # JSON's escapes are TOML's (\n, \", \\, \uXXXX); DEL is the one control character JSON leaves as it is.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_table(model: Any, origin: Callable[[str], str]) -> list[str]:
    """``key = value  # origin`` lines of a settings model; a value not set is a commented line."""
    from pydantic import BaseModel

    lines = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel) or (isinstance(value, list) and value and isinstance(value[0], BaseModel)):
            continue  # a table of its own, written after this one
        if name in _SECRET_SETTINGS and value is not None:
            lines.append(f"# {name} = (set; a secret, not shown)  # {origin(name)}")
        elif value is None or (name == "endpoints" and not value):
            lines.append(f"# {name} = (not set)  # {origin(name)}")
        else:
            lines.append(f"{name} = {_toml_value(value)}  # {origin(name)}")
    return lines


def settings_toml(settings: Any, path: Path | None, origins: dict[str, str]) -> str:
    """``summarize config``: the settings as config.toml text a user can paste, each value's origin beside it
    (`pipeline.settings.resolve_settings` says which file was read and where each value came from)."""
    from pydantic import BaseModel

    from pipeline.errors import redact
    from pipeline.settings import DEFAULT_CONFIG, ENV_PREFIX

    file = printable(path)

    def origin_in(section: str) -> Callable[[str], str]:
        def origin(name: str) -> str:
            found = origins.get(section + "." + name if section else name) or origins.get(section)
            variable = ENV_PREFIX + (section or name).upper()
            return {"file": f"from {file}", "environment": f"from {variable}", "flag": "from a flag"}.get(
                found or "", "default"
            )

        return origin

    read = f"read {file}" if path is not None else f"no config file read (no ./{DEFAULT_CONFIG})"
    lines = [
        f"# The settings a run here would use ({read}). Each comment says where the value came from: the default,",
        f"# the file, an environment variable ({ENV_PREFIX}<NAME>) or a flag. Paste into config.toml to keep them.",
        "[summarize]",
        *_toml_table(settings, origin_in("")),
    ]
    for endpoint in settings.endpoints:
        lines += ["", "[[summarize.endpoints]]", *_toml_table(endpoint, origin_in("endpoints"))]
    for name in type(settings).model_fields:
        section = getattr(settings, name)
        if isinstance(section, BaseModel):
            lines += ["", f"[{name}]", *_toml_table(section, origin_in(name))]
    return redact("\n".join(lines) + "\n")

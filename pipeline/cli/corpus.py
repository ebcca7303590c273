"""`run` summarises papers into the corpus; `merge` joins output folders (shards, machines) into one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pipeline.cli.base import Finite, _interest_flags, _settings

REMOTE_SOURCES = ("hf-daily", "arxiv", "biorxiv", "medrxiv", "openreview", "feed")


@click.command()
@click.argument("inputs", nargs=-1)
@click.option(
    "--source",
    "source",
    default=None,
    help="Input format or remote source: listing, jsonl, csv, hf-daily, arxiv, biorxiv, medrxiv, openreview, feed "
    "(INPUTS are then the feed URLs; default: by extension).",
)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder (config: out_dir).")
@click.option("--model", help="'embedded' or a litellm model such as openai/gpt-4o-mini (config: model).")
@click.option("--concurrency", type=int, help="Most LLM requests in flight (config: concurrency).")
@click.option("--max-cost", "max_cost_usd", type=float, help="Stop dispatching LLM calls at this spend, in USD.")
@click.option("--api-base", help="Base URL of an OpenAI-compatible server (config: api_base).")
@click.option("--prompt", help="LLM: the prompt by name, 'summarize' or 'extractive' (small models; config: prompt).")
@click.option("--refresh", is_flag=True, help="Ignore cached summaries and summarise again.")
@click.option("--dry-run", is_flag=True, help="Estimate tokens and cost for papers not cached; send nothing.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
@click.option("--date", help="hf-daily, biorxiv/medrxiv, feed: day YYYY-MM-DD; arxiv: end of the date window.")
@click.option("--from", "first", help="biorxiv/medrxiv: first day of a window YYYY-MM-DD (with --to).")
@click.option("--to", "last", help="biorxiv/medrxiv: last day of the window YYYY-MM-DD.")
@click.option("--venue", help="openreview: venue id, e.g. ICLR.cc/2026/Conference (its accepted papers).")
@click.option("--invitation", help="openreview: invitation id, e.g. ICLR.cc/2026/Conference/-/Submission.")
@click.option("--week", help="hf-daily: ISO week YYYY-Www.")
@click.option("--month", help="hf-daily: month YYYY-MM.")
@click.option("--ids", help="arxiv: comma-separated arXiv ids.")
@click.option("--query", help="arxiv: search query in arXiv syntax.")
@click.option("--category", help="arxiv: category such as cs.CL; biorxiv/medrxiv: subject such as neuroscience.")
@click.option("--days", type=int, default=1, show_default=True, help="arxiv --category: window length in days.")
@click.option("--feed", is_flag=True, help="arxiv --category: the announcement feed (new submissions) instead.")
@click.option("--cross-lists", is_flag=True, help="arxiv --feed: include cross-listed papers.")
@click.option(
    "--resolve/--no-resolve",
    default=None,
    help="Find arXiv ids for titles, add arXiv metadata and the Hub's code/project links (config: resolve).",
)
@click.option(
    "--full-text/--no-full-text",
    "full_text",
    default=None,
    help="Read each arXiv paper's HTML (or PDF) for the links it gives (config: full_text).",
)
@click.option("--shard", help="K/N: only the papers whose id hashes to shard K of N (config: shard).")
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    help="local: this process; ray: cache misses on a Ray cluster (RAY_ADDRESS, else a local one; config: executor).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Embedded engine: processes for cache misses (default: one per CPU; 1: this process; config: workers).",
)
@click.option(
    "--batch/--no-batch",
    "batch",
    default=None,
    help="LLM: send papers not cached through the provider's batch API at batch prices; resumes a saved batch "
    "(config: batch).",
)
@click.option(
    "--library",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Papers you care about (BibTeX, RIS, CSL-JSON, JSONL/CSV, a corpus): the tables, page and feed follow "
    "your interests and ranking.jsonl is written (repeatable; config: interests.library).",
)
@click.option("--keywords", multiple=True, help="A phrase that pulls papers up; 'phrase=weight' (repeatable).")
@click.option("--authors", multiple=True, help="An author to follow (repeatable).")
@click.option("--exclude", multiple=True, help="A phrase that pushes papers down (repeatable).")
@click.option("--top", type=click.IntRange(1, 10_000), help="Papers in the digest and feed (config: interests.top).")
@click.option("--threshold", type=Finite(0, 100), help="Only papers scoring at least this in the digest.")
@click.option("--rank-model", help="LLM that re-judges the ranking's top K (config: interests.rank_model).")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON on stdout.")
@click.option("--verbose", "-v", is_flag=True, help="Also say how the work was spread over processes.")
def run(
    inputs: tuple[str, ...],
    source: str | None,
    out_dir: Path | None,
    model: str | None,
    concurrency: int | None,
    max_cost_usd: float | None,
    api_base: str | None,
    prompt: str | None,
    refresh: bool,
    dry_run: bool,
    config: Path | None,
    date: str | None,
    first: str | None,
    last: str | None,
    venue: str | None,
    invitation: str | None,
    week: str | None,
    month: str | None,
    ids: str | None,
    query: str | None,
    category: str | None,
    days: int,
    feed: bool,
    cross_lists: bool,
    resolve: bool | None,
    full_text: bool | None,
    shard: str | None,
    executor: str | None,
    workers: int | None,
    batch: bool | None,
    library: tuple[Path, ...],
    keywords: tuple[str, ...],
    authors: tuple[str, ...],
    exclude: tuple[str, ...],
    top: int | None,
    threshold: float | None,
    rank_model: str | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Summarise papers from INPUTS (files, or - for stdin) or a remote --source into the corpus.

    Writes corpus.jsonl, comparison.md/.csv/.html, run.json and, when a paper failed, failures.jsonl.

    \b
    Exit codes:
      0    all done
      1    some papers failed (failures.jsonl says which) or were not done (--max-cost)
      2    a setting, an input or the output folder is unusable (the message names it)
      3    the fetch failed
      4    another run holds the output folder's lock
      5    the source was empty where papers were expected
      6    the feed is stale
      130  interrupted (Ctrl-C): what was summarised is saved, and a rerun resumes
    """
    from pipeline import run as run_module
    from pipeline.errors import InputError

    settings = _settings(
        config,
        out_dir=out_dir,
        model=model,
        concurrency=concurrency,
        max_cost_usd=max_cost_usd,
        api_base=api_base,
        prompt=prompt,
        resolve=resolve,
        full_text=full_text,
        shard=shard,
        executor=executor,
        workers=workers,
        batch=batch,
        interests=_interest_flags(library, keywords, authors, exclude, top, threshold, rank_model),
    )
    remote = None
    items: Any
    if source in REMOTE_SOURCES:
        from pipeline.sources.registry import open_remote

        if inputs and source != "feed":
            raise InputError(f"--source {source} reads no input files; name files without --source {source}")
        remote, items = open_remote(
            source,
            settings,
            urls=inputs,
            date=date,
            first=first,
            last=last,
            venue=venue,
            invitation=invitation,
            week=week,
            month=month,
            ids=ids,
            query=query,
            category=category,
            days=days,
            feed=feed,
            cross_lists=cross_lists,
        )
    else:
        from pipeline.sources import files as sources

        if source is not None and source not in sources.FILE_FORMATS:
            raise InputError(
                f"unknown --source {source!r}; choose from {', '.join(sources.FILE_FORMATS + REMOTE_SOURCES)}"
            )
        if not inputs:
            raise InputError("no input given: name files (or - for stdin), or use a remote --source such as hf-daily")
        sources.check_exist(inputs)  # a typo in a name: one line, exit 2, nothing in --out touched
        items = sources.read_inputs(inputs, source)
    from pipeline.report import print_report, progress_bar

    with progress_bar(enabled=not as_json) as on_progress:
        report = run_module.run(
            items, settings, refresh=refresh, dry_run=dry_run, on_progress=on_progress, fetch=remote
        )
    print_report(report, as_json=as_json, verbose=verbose)
    fetched = report.fetch or {}
    problems = {
        "failed": (3, f"{fetched.get('error')}"),
        "empty": (5, f"the source returned no papers where some were expected ({fetched.get('url')})"),
        "stale": (6, f"the feed is stale: its newest entry is from {fetched.get('newest')}"),
    }
    if fetched.get("status") in problems:
        code, message = problems[fetched["status"]]
        from pipeline.secrets import redact

        click.secho(f"error: {redact(message)}", fg="red", err=True)
        sys.exit(code)
    if not report.ok:
        sys.exit(1)


@click.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder to merge into.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
@click.option("--json", "as_json", is_flag=True, help="Print the merged run report as JSON on stdout.")
def merge(folders: tuple[Path, ...], out_dir: Path, config: Path | None, as_json: bool) -> None:
    """Merge output FOLDERS (shards, machines) into --out: one record per id (the newest arXiv version), tables
    and feed rendered again, run reports summed. Order-free and idempotent."""
    import json

    from pipeline.errors import printable
    from pipeline.run import merge_outputs

    summary = merge_outputs(list(folders), _settings(config, out_dir=out_dir))
    for warning in summary.get("warnings") or []:
        click.secho(f"warning: {printable(warning)}", fg="yellow", err=True)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"merged {len(folders)} folder(s) into {out_dir}: {summary['corpus_total']} records, "
            f"{summary['total']} papers ({summary['new']} new, {summary['cached']} cached, "
            f"{summary['failed']} failed), "
            f"${summary['cost_usd']:.4f}"
        )
        if summary.get("layout_change"):
            click.echo(f"layout: {summary['layout_change']}")

"""The command line: parses options, builds settings, calls one library function, prints the outcome.

Imports stay inside the commands so that ``summarize --help`` loads click and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import click

# litellm fetches a model price map over the network at import unless told otherwise.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REMOTE_SOURCES = ("hf-daily", "arxiv")


class _Errors(click.Group):
    """Turns the project's own errors into a one-line message and their exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        from pipeline.errors import SummarizeError

        try:
            return super().invoke(ctx)
        except SummarizeError as exc:
            from pipeline.secrets import redact

            click.secho(f"error: {redact(str(exc))}", fg="red", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:  # before a run started, or in a command with nothing to save
            click.secho("interrupted", fg="red", err=True)
            ctx.exit(130)


@click.group(cls=_Errors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="summarize", prog_name="summarize")
def cli() -> None:
    """Turn research papers into structured, grounded records: a JSONL corpus and a comparison table.

    The default engine is embedded (local, no key, no network). Pass --model provider/name to use an LLM
    through litellm instead.
    """
    for stream in (sys.stdout, sys.stderr):  # a path that is not UTF-8 prints escaped, never a traceback
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _settings(config: Path | None, **overrides: Any) -> Any:
    from pipeline.settings import load_settings

    return load_settings(config, overrides)


@cli.command()
@click.argument("inputs", nargs=-1)
@click.option(
    "--source",
    "source",
    default=None,
    help="Input format or remote source: listing, jsonl, csv, hf-daily, arxiv (default: by extension).",
)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder (config: out_dir).")
@click.option("--model", help="'embedded' or a litellm model such as openai/gpt-4o-mini (config: model).")
@click.option("--concurrency", type=int, help="Most LLM requests in flight (config: concurrency).")
@click.option("--max-cost", "max_cost_usd", type=float, help="Stop dispatching LLM calls at this spend, in USD.")
@click.option("--api-base", help="Base URL of an OpenAI-compatible server (config: api_base).")
@click.option("--refresh", is_flag=True, help="Ignore cached summaries and summarise again.")
@click.option("--dry-run", is_flag=True, help="Estimate tokens and cost for papers not cached; send nothing.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
@click.option("--date", help="hf-daily: day YYYY-MM-DD; arxiv: end of the date window.")
@click.option("--week", help="hf-daily: ISO week YYYY-Www.")
@click.option("--month", help="hf-daily: month YYYY-MM.")
@click.option("--ids", help="arxiv: comma-separated arXiv ids.")
@click.option("--query", help="arxiv: search query in arXiv syntax.")
@click.option("--category", help="arxiv: category such as cs.CL.")
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
@click.option("--threshold", type=click.FloatRange(0, 100), help="Only papers scoring at least this in the digest.")
@click.option("--rank-model", help="LLM that re-judges the ranking's top K (config: interests.rank_model).")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON on stdout.")
def run(
    inputs: tuple[str, ...],
    source: str | None,
    out_dir: Path | None,
    model: str | None,
    concurrency: int | None,
    max_cost_usd: float | None,
    api_base: str | None,
    refresh: bool,
    dry_run: bool,
    config: Path | None,
    date: str | None,
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
        from pipeline.sources import remote as fetch

        remote, items = fetch.open_source(
            source,
            settings=settings,
            date=date,
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
            raise InputError("no input given: name files (or - for stdin), or use --source hf-daily/arxiv")
        items = sources.read_inputs(inputs, source)
    from pipeline.report import print_report, progress_bar

    with progress_bar(enabled=not as_json) as on_progress:
        report = run_module.run(
            items, settings, refresh=refresh, dry_run=dry_run, on_progress=on_progress, fetch=remote
        )
    print_report(report, as_json=as_json)
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


@cli.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder to merge into.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
@click.option("--json", "as_json", is_flag=True, help="Print the merged run report as JSON on stdout.")
def merge(folders: tuple[Path, ...], out_dir: Path, config: Path | None, as_json: bool) -> None:
    """Merge output FOLDERS (shards, machines) into --out: one record per id (the newest arXiv version), tables
    and feed rendered again, run reports summed. Order-free and idempotent."""
    import json

    from pipeline.run import merge_outputs

    summary = merge_outputs(list(folders), _settings(config, out_dir=out_dir))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"merged {len(folders)} folder(s) into {out_dir}: {summary['corpus_total']} records, "
            f"{summary['total']} papers ({summary['new']} new, {summary['cached']} cached, "
            f"{summary['failed']} failed), "
            f"${summary['cost_usd']:.4f}"
        )


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--top", type=click.IntRange(1, 200), help="Papers in the digest (config: [delivery] top).")
@click.option("--email-to", "email_to", multiple=True, help="Send the digest to this address (repeatable).")
@click.option("--email-from", "email_from", help="The e-mail's From address.")
@click.option("--smtp-host", "smtp_host", help="SMTP server; login from SUMMARIZE_SMTP_USER / SUMMARIZE_SMTP_PASSWORD.")
@click.option("--smtp-port", "smtp_port", type=click.IntRange(1, 65535), help="SMTP port (default 587).")
@click.option("--smtp-starttls/--no-smtp-starttls", "smtp_starttls", default=None, help="STARTTLS (default on).")
@click.option("--webhook", envvar="SUMMARIZE_WEBHOOK_URL", help="Slack/Discord webhook URL (or SUMMARIZE_WEBHOOK_URL).")
@click.option("--dry-run", is_flag=True, help="Write digest.md/.html only: send nothing, remember nothing.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
def digest(out_dir: Path, dry_run: bool, config: Path | None, **flags: Any) -> None:
    """Send the best papers of OUT_DIR not delivered before: digest.md/.html, an e-mail, a webhook post.

    Papers follow OUT_DIR/ranking.jsonl (else newest first); delivered.json remembers what went out, so a rerun
    sends nothing twice and a paper comes back only as a new arXiv version. Exit code 7: a channel failed (the
    files are written, the error gives the server's answer).
    """
    from pipeline.deliver import deliver, report_lines, with_flags
    from pipeline.errors import DeliveryError

    settings = _settings(config, out_dir=out_dir)
    outcome = deliver(settings, with_flags(settings.delivery, **flags), dry_run=dry_run)
    for line in report_lines(outcome):
        click.echo(line)
    if outcome.errors:
        raise DeliveryError("; ".join(str(exc) for exc in outcome.errors))


def _interest_flags(
    library: tuple[Path, ...],
    keywords: tuple[str, ...],
    authors: tuple[str, ...],
    exclude: tuple[str, ...],
    top: int | None,
    threshold: float | None,
    rank_model: str | None,
    **more: Any,
) -> dict[str, Any] | None:
    """The [interests] keys the flags set (None: none)."""
    given = {
        "library": list(library) or None,
        "keywords": _keywords(keywords),
        "authors": list(authors) or None,
        "exclude": list(exclude) or None,
        "top": top,
        "threshold": threshold,
        "rank_model": rank_model,
        **more,
    }
    return {k: v for k, v in given.items() if v is not None} or None


def _keywords(values: tuple[str, ...]) -> dict[str, float] | None:
    """--keywords "nerf" --keywords "gaussian splatting=2": phrase, or phrase=weight."""
    if not values:
        return None
    out: dict[str, float] = {}
    for value in values:
        phrase, sep, weight = value.rpartition("=")
        try:
            out[phrase if sep else value] = float(weight) if sep else 1.0
        except ValueError:
            out[value] = 1.0
    return out


@cli.command()
@click.argument("inputs", nargs=-1)
@click.option("--source", "source", default=None, help="Input format: listing, jsonl, csv, json (default: by name).")
@click.option(
    "--library",
    "library",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Papers you care about: BibTeX, RIS, CSL-JSON, a feedback export, JSONL/CSV/JSON, a corpus.jsonl "
    "(repeatable; config: interests.library).",
)
@click.option("--keywords", multiple=True, help="A phrase that pulls papers up; 'phrase=weight' (repeatable).")
@click.option("--authors", multiple=True, help="An author to follow: their papers come first (repeatable).")
@click.option("--exclude", multiple=True, help="A phrase that pushes papers down (repeatable).")
@click.option("--top", type=click.IntRange(1, 100_000), help="Print only the best N.")
@click.option("--threshold", type=click.FloatRange(0, 100), help="Print only papers scoring at least this (0-100).")
@click.option("--rank-model", help="LLM that re-judges the top K, e.g. openai/gpt-4o-mini (config: interests).")
@click.option("--judge-top-k", type=click.IntRange(1, 1000), help="Papers the LLM judge reads (default 50).")
@click.option("--description", help="Your interests in words, for the LLM judge (config: interests.description).")
@click.option(
    "--resolve/--no-resolve",
    default=None,
    help="Library entries without an abstract: fetch it from arXiv, by id or exact title (config: resolve).",
)
@click.option("--api-base", help="Base URL of an OpenAI-compatible server for --rank-model (config: api_base).")
@click.option("--max-cost", "max_cost_usd", type=float, help="Stop sending papers to the judge at this spend (USD).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, best first: id, title, score, reasons.")
def rank(
    inputs: tuple[str, ...],
    source: str | None,
    library: tuple[Path, ...],
    keywords: tuple[str, ...],
    authors: tuple[str, ...],
    exclude: tuple[str, ...],
    top: int | None,
    threshold: float | None,
    rank_model: str | None,
    judge_top_k: int | None,
    description: str | None,
    resolve: bool | None,
    api_base: str | None,
    max_cost_usd: float | None,
    config: Path | None,
    as_json: bool,
) -> None:
    """Rank papers from INPUTS (any file `run` reads, a corpus.jsonl, or - for stdin) by your interests, without
    summarising them: the library's papers, keywords and followed authors pull papers up, --exclude pushes down.
    Each paper comes with its score (0-100) and the reasons behind it."""
    from pipeline import rank as ranking
    from pipeline.errors import InputError
    from pipeline.sources import files as sources

    flags = _interest_flags(
        library, keywords, authors, exclude, None, None, rank_model, judge_top_k=judge_top_k, description=description
    )
    settings = _settings(config, api_base=api_base, max_cost_usd=max_cost_usd, resolve=resolve, interests=flags)
    interests = settings.interests
    if not ranking.wanted(interests):
        raise InputError("nothing to rank by: give --library FILE, --keywords or --authors (or [interests] in config)")
    if not inputs:
        raise InputError("no input given: name files of papers (or - for stdin)")
    if source is not None and source not in sources.FILE_FORMATS:
        raise InputError(f"unknown --source {source!r}; choose from {', '.join(sources.FILE_FORMATS)}")
    papers = []
    for item in sources.read_inputs(inputs, source):
        if isinstance(item, InputError):
            click.secho(f"warning: {item}", fg="yellow", err=True)
        else:
            papers.append(item)
    lib = ranking.load_library(interests, papers, settings)
    for problem in lib.problems if lib is not None else []:
        click.secho(f"warning: {problem}", fg="yellow", err=True)
    ranked = ranking.rank_papers(papers, ranking.profile_of(interests, lib))
    if interests.rank_model:
        from pipeline.rank.judge import judge_ranking

        ranked, note = judge_ranking(ranked, interests, settings)
        if note:
            click.secho(note, fg="yellow", err=True)
    chosen = ranking.select(ranked, top, threshold)
    if as_json:
        click.echo(ranking.ranking_lines(chosen), nl=False)
    else:
        ranking.print_ranking(chosen)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of one corpus record (schema version 2)."""
    import json

    from pipeline.schema import Record

    click.echo(json.dumps(Record.model_json_schema(), indent=2))


@cli.command(name="eval")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tldr",
    "tldr_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="SciTLDR-format file: ROUGE-1/2/L of the engine's tldr (best target per paper, stemming).",
)
@click.option(
    "--fields",
    "fields_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSAbstruct-format file: per-field precision/recall against gold roles, key-result precision.",
)
@click.option(
    "--grounding",
    "grounding_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="SciTLDR-format file: how often the LLM validators refuse human TLDRs and accept wrong ones.",
)
@click.option(
    "--llm-fields",
    "llm_fields_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="data/modern/-format file: each cell's ROUGE-1 against an LLM's field, the oracle, key-result agreement.",
)
@click.option(
    "--ranking",
    "ranking_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of library-vs-day cases (cases.jsonl + papers.jsonl, as data/ranking/): P@10 and nDCG@10.",
)
@click.option(
    "--ranker",
    default="embedded",
    show_default=True,
    help="--ranking: embedded, or a baseline it was chosen against (centroid, nearest, logistic).",
)
@click.option("--rank-model", help="--ranking: also score the LLM judge (litellm model) on the embedded top K.")
@click.option("--model", help="Engine to score: 'embedded' (default) or a litellm model (fields and tldr only).")
@click.option("--api-base", help="Base URL of an OpenAI-compatible server for --model (config: api_base).")
@click.option("--limit", type=int, help="Score only the first N papers of each file (quick looks, costly models).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file scored ('scored' says which).")
def eval_command(
    file: Path | None,
    tldr_file: Path | None,
    fields_file: Path | None,
    grounding_file: Path | None,
    llm_fields_file: Path | None,
    ranking_dir: Path | None,
    ranker: str,
    rank_model: str | None,
    model: str | None,
    api_base: str | None,
    limit: int | None,
    config: Path | None,
    as_json: bool,
) -> None:
    """Score an engine on labelled data.

    FILE (CSAbstruct format) scores the embedded engine's sentence roles; --fields and --tldr score what any
    engine writes into the record, so an LLM can be compared with the embedded engine on the same data.
    """
    import json

    from pipeline import evaluate as ev
    from pipeline.report import print_eval, print_field_eval, print_tldr_eval

    if not (file or tldr_file or fields_file or grounding_file or llm_fields_file or ranking_dir):
        raise click.UsageError(
            "give a FILE to score roles, --fields FILE, --tldr FILE, --grounding FILE or --ranking DIR"
        )
    settings = _settings(config, model=model, api_base=api_base)
    if ranking_dir:
        from pipeline.rank.evaluate import print_ranking_eval, ranking_eval

        for result in ranking_eval(ranking_dir, ranker, settings, rank_model=rank_model, limit=limit):
            click.echo(json.dumps({"scored": "ranking", **result})) if as_json else print_ranking_eval(result)
    if file:
        from pipeline.engines import EmbeddedEngine

        result = ev.evaluate(file, EmbeddedEngine().roles, limit=limit)
        click.echo(json.dumps({"scored": "roles", **result})) if as_json else print_eval(result, file)
    if grounding_file:
        result = ev.evaluate_grounding(grounding_file, limit=limit)
        if as_json:
            click.echo(json.dumps({"scored": "grounding", **result}))
        else:
            rate = {k: "n/a" if v is None else f"{v:.1%}" for k, v in result.items() if isinstance(v, float | None)}
            if result["reviewer_refused"] is None:
                rate["reviewer_refused"] += " (the file has one TLDR per paper)"
            click.echo(
                f"{grounding_file}: {result['papers']} papers. Refused: author TLDRs {rate['author_refused']}, "
                f"reviewer-derived {rate['reviewer_refused']}. Accepted: "
                f"another paper's TLDR {rate['other_paper_accepted']}, a result with a changed number "
                f"{rate['changed_number_accepted']}."
            )
    if fields_file or tldr_file or llm_fields_file:
        summarize = ev.engine_summarizer(settings)
        if fields_file:
            result = ev.evaluate_fields(fields_file, summarize, limit=limit)
            result["model"] = settings.model
            click.echo(json.dumps({"scored": "fields", **result})) if as_json else print_field_eval(result, fields_file)
        if tldr_file:
            result = ev.evaluate_tldr(tldr_file, summarize, limit=limit)
            result["model"] = settings.model
            click.echo(json.dumps({"scored": "tldr", **result})) if as_json else print_tldr_eval(result, tldr_file)
        if llm_fields_file:
            from pipeline.report import print_llm_field_eval

            result = ev.evaluate_llm_fields(llm_fields_file, summarize, limit=limit)
            result["model"] = settings.model
            if as_json:
                click.echo(json.dumps({"scored": "llm_fields", **result}))
            else:
                print_llm_field_eval(result, llm_fields_file)


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path), default="out")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="File to write (else stdout).")
def export(out_dir: Path, fmt: str, out_file: Path | None) -> None:
    """The full table of OUT_DIR's corpus (corpus.jsonl or corpus/ partitions), every record in id order: the
    published tables hold only the latest digest and the archive periods (docs/archive.md)."""
    from pipeline.archive.export import export as export_table

    count = export_table(out_dir, fmt, out_file)
    if out_file is not None:
        click.echo(f"{count} records written to {out_file}", err=True)


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path), default="out")
def report(out_dir: Path) -> None:
    """Print the last run's report (OUT_DIR/run.json, failures.jsonl) as Markdown, e.g. for a CI job summary."""
    from pipeline.report import markdown_report

    click.echo(markdown_report(out_dir), nl=False)


@cli.command()
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
def config(config: Path | None) -> None:
    """Print the settings a run would use as config.toml text, each value's origin (default, file, environment)
    in a comment."""
    from pipeline.report import settings_toml
    from pipeline.settings import resolve_settings

    click.echo(settings_toml(*resolve_settings(config)), nl=False)


def _redacted_excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """A traceback (a bug) goes to the terminal with every known secret masked, like any other text."""
    import traceback

    from pipeline.secrets import redact

    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))


def main() -> None:
    sys.excepthook = _redacted_excepthook
    cli(prog_name="summarize")

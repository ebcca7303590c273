"""`rank` orders papers by your interests; `digest` delivers the best of them not sent before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pipeline.cli.base import Finite, _interest_flags, _settings


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--top", type=click.IntRange(1, 200), help="Papers in the digest (config: [delivery] top).")
@click.option("--email-to", "email_to", multiple=True, help="Send the digest to this address (repeatable).")
@click.option("--email-from", "email_from", help="The e-mail's From address.")
@click.option("--smtp-host", "smtp_host", help="SMTP server; login from SUMMARIZE_SMTP_USER / SUMMARIZE_SMTP_PASSWORD.")
@click.option("--smtp-port", "smtp_port", type=click.IntRange(1, 65535), help="SMTP port (default 587).")
@click.option("--smtp-starttls/--no-smtp-starttls", "smtp_starttls", default=None, help="STARTTLS (default on).")
@click.option("--webhook", envvar="SUMMARIZE_WEBHOOK_URL", help="Slack/Discord webhook URL (or SUMMARIZE_WEBHOOK_URL).")
@click.option("--dry-run", is_flag=True, help="Write digest.md/.html only: send nothing, remember nothing.")
@click.option(
    "--mark-delivered",
    is_flag=True,
    help="With no channel: count the digest's papers as delivered (a preview does not).",
)
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
def digest(out_dir: Path, dry_run: bool, mark_delivered: bool, config: Path | None, **flags: Any) -> None:
    """Send the best papers of OUT_DIR not delivered before: digest.md/.html, an e-mail, a webhook post.

    Papers follow OUT_DIR/ranking.jsonl (else newest first); delivered.json remembers what went out on each
    channel, so no paper is sent twice on one, whatever --top, and a paper comes back only as a new arXiv version.
    With no channel the digest is a preview that marks nothing delivered (unless --mark-delivered). Exit code 7:
    a channel failed (the files are written, the error gives the server's answer).
    """
    from pipeline.deliver import deliver, report_lines, with_flags
    from pipeline.errors import DeliveryError

    settings = _settings(config, out_dir=out_dir)
    delivery = with_flags(settings.delivery, **flags)
    outcome = deliver(settings, delivery, dry_run=dry_run, mark_delivered=mark_delivered)
    for warning in outcome.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    for line in report_lines(outcome):
        click.echo(line)
    if outcome.errors:
        raise DeliveryError("; ".join(str(exc) for exc in outcome.errors))


@click.command()
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
@click.option("--threshold", type=Finite(0, 100), help="Print only papers scoring at least this (0-100).")
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
    from pipeline.errors import InputError, printable
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
            click.secho(f"warning: {printable(item)}", fg="yellow", err=True)
        else:
            papers.append(item)
    lib = ranking.load_library(interests, papers, settings)
    for problem in lib.problems if lib is not None else []:
        click.secho(f"warning: {printable(problem)}", fg="yellow", err=True)
    for read in lib.files if lib is not None and not as_json else []:  # once per library: read, merged, left out
        click.echo(printable(read.line), err=True)
    ranked = ranking.rank_papers(papers, ranking.profile_of(interests, lib))
    if interests.rank_model:
        from pipeline.rank.judge import judge_ranking

        ranked, note = judge_ranking(ranked, interests, settings)
        if note:
            click.secho(printable(note), fg="yellow", err=True)  # the server's words, escaped here
    chosen = ranking.select(ranked, top, threshold)
    if as_json:
        click.echo(ranking.ranking_lines(chosen), nl=False)
    else:
        ranking.print_ranking(chosen)

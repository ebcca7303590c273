"""`eval`: scores an engine (roles, fields, tldr, grounding) or the ranking on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pipeline.cli.base import _settings


def _labelled(flag: str, dest: str, help: str, *, folder: bool | None = False) -> Any:  # noqa: A002
    """An option naming a labelled data file (or folder; ``folder=None``: either) that must exist."""
    kind = click.Path(exists=True, dir_okay=folder is not False, file_okay=folder is not True, path_type=Path)
    return click.option(flag, dest, type=kind, help=help)


@click.command(name="eval")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_labelled(
    "--tldr", "tldr_file", "SciTLDR-format file: ROUGE-1/2/L of the engine's tldr (best target per paper, stemming)."
)
@_labelled(
    "--fields",
    "fields_file",
    "CSAbstruct-format file: per-field precision/recall against gold roles, key-result precision.",
)
@_labelled(
    "--grounding",
    "grounding_file",
    "SciTLDR-format file: how often the LLM validators refuse human TLDRs and accept wrong ones.",
)
@_labelled(
    "--llm-fields",
    "llm_fields_file",
    "data/modern/-format file (or a folder of *dev.jsonl, as data/sciences/): each cell's ROUGE-1 against an "
    "LLM's field, the oracle, key-result agreement.",
    folder=None,
)
@_labelled(
    "--scores",
    "scores_file",
    "data/scores/-format file: value and tuple P/R/F1 of the engine's scores, own and kind accuracy, the anchor.",
)
@_labelled(
    "--ranking",
    "ranking_dir",
    "Folder of library-vs-day cases (cases.jsonl + papers.jsonl, as data/ranking/): P@10 and nDCG@10.",
    folder=True,
)
@click.option(
    "--ranker",
    default="embedded",
    show_default=True,
    help="--ranking: embedded, or a baseline it was chosen against (centroid, nearest, logistic).",
)
@click.option("--rank-model", help="--ranking: also score the LLM judge (litellm model) on the embedded top K.")
@click.option(
    "--feedback-days",
    is_flag=True,
    help="--ranking: replay the reader's loop (votes on each day's top 10 feed the next days) against the library alone.",
)
@click.option("--model", help="Engine to score: 'embedded' (default) or a litellm model (fields and tldr only).")
@click.option("--api-base", help="Base URL of an OpenAI-compatible server for --model (config: api_base).")
@click.option("--prompt", help="--model: the LLM prompt by name, 'summarize' or 'extractive' (config: prompt).")
@click.option(
    "--by",
    type=click.Choice(["categories"]),
    help="--llm-fields: every table also per field group of the papers' primary arXiv category (cs, astro, math, …).",
)
@click.option("--limit", type=int, help="Score only the first N papers of each file (quick looks, costly models).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file scored ('scored' says which).")
def eval_command(
    file: Path | None,
    tldr_file: Path | None,
    fields_file: Path | None,
    grounding_file: Path | None,
    llm_fields_file: Path | None,
    scores_file: Path | None,
    ranking_dir: Path | None,
    ranker: str,
    rank_model: str | None,
    feedback_days: bool,
    model: str | None,
    api_base: str | None,
    prompt: str | None,
    by: str | None,
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

    if not (file or tldr_file or fields_file or grounding_file or llm_fields_file or scores_file or ranking_dir):
        raise click.UsageError(
            "give a FILE to score roles, --fields FILE, --tldr FILE, --grounding FILE, --scores FILE or --ranking DIR"
        )
    settings = _settings(config, model=model, api_base=api_base, prompt=prompt)
    if feedback_days and not ranking_dir:
        raise click.UsageError("--feedback-days replays the loop on --ranking DIR: give the folder")
    if ranking_dir and feedback_days:
        from pipeline.rank.loop import print_replay, replay

        replayed = replay(ranking_dir, limit=limit)
        if as_json:
            click.echo(json.dumps({"scored": "ranking_loop", "path": str(ranking_dir), **replayed}))
        else:
            print_replay(replayed, str(ranking_dir))
    elif ranking_dir:
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
    if fields_file or tldr_file or llm_fields_file or scores_file:
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

            result = ev.evaluate_llm_fields(llm_fields_file, summarize, limit=limit, by=by)
            result["model"] = settings.model
            if as_json:
                click.echo(json.dumps({"scored": "llm_fields", **result}))
            else:
                print_llm_field_eval(result, llm_fields_file)
        if scores_file:
            from pipeline.evaluate.scores import print_scores_eval

            result = ev.evaluate_scores(scores_file, summarize, limit=limit, engine=settings.model)
            if as_json:
                click.echo(json.dumps({"scored": "scores", **result}))
            else:
                print_scores_eval(result, scores_file)

"""`leaderboard`: the scores papers report, lined up per benchmark over the whole corpus."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path), default="out")
@click.option("--dataset", help="Only benchmarks on this dataset (its name as any paper writes it; a prefix works).")
@click.option("--metric", help="Only benchmarks of this metric (e.g. 'top-1 accuracy', 'FID'; a prefix works).")
@click.option("--top", type=click.IntRange(1, 100_000), help="Papers shown per board (text only; default: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document: every board, entries best first.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one row per entry (formula-safe cells).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read ([leaderboard]).")
def leaderboard(
    out_dir: Path,
    dataset: str | None,
    metric: str | None,
    top: int | None,
    as_json: bool,
    as_csv: bool,
    config: Path | None,
) -> None:
    """Leaderboards of OUT_DIR's corpus (corpus.jsonl or corpus/ partitions, every period): per benchmark (dataset
    and metric) that at least two papers report, each paper's own best score, best first (lower first where lower
    is better: FID, error, latency...), with the paper, its date, the value as written and the sentence stating
    it. Names line up across papers ("ImageNet-1K" is "ImageNet 1k"); [leaderboard] in config.toml adds
    directions and synonyms (docs/leaderboards.md)."""
    import sys

    from pipeline.cli.base import _settings
    from pipeline.errors import InputError
    from pipeline.leaderboard.board import leaderboards
    from pipeline.leaderboard.names import Names
    from pipeline.leaderboard.render import text_lines, to_json, write_csv

    if as_json and as_csv:
        raise InputError("--json and --csv: choose one")
    settings = _settings(config)
    names = Names.of(settings.leaderboard)
    boards, records = leaderboards(
        out_dir, names, dataset=dataset, metric=metric, min_papers=settings.leaderboard.min_papers
    )
    if as_json:
        click.echo(to_json(boards, records))
    elif as_csv:
        write_csv(boards, sys.stdout)
    elif boards:
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=True)
        for line in text_lines(boards, top):
            console.print(line)
    if not boards:
        wanted = " and ".join(f"{k} {v!r}" for k, v in (("--dataset", dataset), ("--metric", metric)) if v)
        click.secho(
            f"no leaderboard{' for ' + wanted if wanted else ''}: among {records} records, no benchmark has its own "
            f"scores from {settings.leaderboard.min_papers} papers",
            fg="yellow",
            err=True,
        )

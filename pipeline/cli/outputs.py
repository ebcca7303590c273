"""Commands that read what a run left or would use: the record schema, the full table, the report, the settings."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
def schema() -> None:
    """Print the JSON Schema of one corpus record (schema version 2)."""
    import json

    from pipeline.schema import Record

    click.echo(json.dumps(Record.model_json_schema(), indent=2))


@click.command()
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


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path), default="out")
def report(out_dir: Path) -> None:
    """Print the last run's report (OUT_DIR/run.json, failures.jsonl) as Markdown, e.g. for a CI job summary."""
    from pipeline.report import markdown_report

    click.echo(markdown_report(out_dir), nl=False)


@click.command()
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="config.toml to read.")
def config(config: Path | None) -> None:
    """Print the settings a run would use as config.toml text, each value's origin (default, file, environment)
    in a comment."""
    from pipeline.report import settings_toml
    from pipeline.settings import resolve_settings

    click.echo(settings_toml(*resolve_settings(config)), nl=False)

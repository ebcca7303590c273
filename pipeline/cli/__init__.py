"""The command line: parses options, builds settings, calls one library function, prints the outcome.

Imports stay inside the commands so that ``summarize --help`` loads click and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import click

from pipeline.cli import boards, corpus, evaluation, interests, outputs

# litellm fetches a model price map over the network at import unless told otherwise.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


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


cli.add_command(corpus.run)
cli.add_command(corpus.merge)
cli.add_command(interests.digest)
cli.add_command(interests.rank)
cli.add_command(outputs.schema)
cli.add_command(evaluation.eval_command)
cli.add_command(outputs.export)
cli.add_command(outputs.report)
cli.add_command(outputs.config)
cli.add_command(boards.leaderboard)


def _redacted_excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """A traceback (a bug) goes to the terminal with every known secret masked, like any other text."""
    import traceback

    from pipeline.secrets import redact

    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))


def main() -> None:
    sys.excepthook = _redacted_excepthook
    cli(prog_name="summarize")

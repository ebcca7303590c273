"""What the commands share: settings from config and flags, the [interests] keys the flags set."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click


class Finite(click.FloatRange):
    """A number in a range, and a number at all: ``nan`` passes every comparison a range makes, so it is refused
    by name (a usage error, exit 2), as ``inf`` is."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        found = super().convert(value, param, ctx)
        if isinstance(found, float) and not math.isfinite(found):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return found


def _settings(config: Path | None, **overrides: Any) -> Any:
    from pipeline.settings import load_settings

    return load_settings(config, overrides)


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

"""The engine under evaluation, as the ``summarize(title, abstract)`` callable the field and tldr measures take."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any


def engine_summarizer(settings: Any) -> Callable[[str, str], Any]:
    """``(title, abstract) -> EngineOutput`` for the engine the settings name (the LLM one imports litellm)."""
    from pipeline.engines import get_engine
    from pipeline.schema import Paper

    engine = get_engine(settings)
    if hasattr(engine, "require_credentials"):
        engine.require_credentials()

    def summarize(title: str, abstract: str) -> Any:
        return engine.summarize(Paper(id="eval", title=title or "Untitled", abstract=abstract, source="eval"))

    return summarize


_AT = re.compile(r" at line \d+ column \d+")


def failure_reason(exc: BaseException) -> str:
    """One line saying why the engine failed a paper: the first validation error of the last answer (its field and
    message, without pydantic's type tag and the answer's text), else the error's first line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if "[type=" in line:
            message = _AT.sub("", line.split(" [type=", 1)[0]).removeprefix("Value error, ")
            field = lines[i - 1] if i and "validation error" not in lines[i - 1] and " " not in lines[i - 1] else ""
            return (f"{field}: {message}" if field else message)[:160]
    return (lines[0] if lines else type(exc).__name__)[:160]


def tally(reasons: list[str], most: int = 5) -> list[dict[str, Any]]:
    """The commonest failure reasons, each with how many papers it failed."""
    return [{"reason": reason, "papers": n} for reason, n in Counter(reasons).most_common(most)]

"""The engine under evaluation, as the ``summarize(title, abstract)`` callable the field and tldr measures take."""

from __future__ import annotations

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

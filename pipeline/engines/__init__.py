"""Engines: a paper goes in, a validated summary (with evidence and provenance) comes out.

- `base`: the `Engine` protocol, `EngineOutput`, and what validators ground a summary in.
- `embedded`: the default, local extractive engine (sentence roles, a trained tldr selector).
- `llm`: any litellm model through instructor (imported only when a model name asks for it); `prompting` (the
  prompts/ files, the instructor mode each server gets) and `failures` (what a failed call means, what to retry).
- `calls`: what every model call shares, the engine's and the LLM judge's (the bounded client, the deadline per
  paper, the budget rule for reported tokens, the failure text).

`get_engine` is the registry; it knows the LLM engine by module name only, so nothing here loads litellm.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from pipeline.engines.base import Engine, EngineOutput, grounding_context
from pipeline.engines.embedded import EMBEDDED, EmbeddedEngine

if TYPE_CHECKING:
    from pipeline.settings import Settings

__all__ = ["EMBEDDED", "EmbeddedEngine", "Engine", "EngineOutput", "get_engine", "grounding_context"]


def get_engine(settings: Settings) -> Engine:
    """The engine a model name asks for: 'embedded', or any litellm model (imports litellm lazily)."""
    if settings.model == EMBEDDED:
        return EmbeddedEngine()
    engine: Engine = import_module("pipeline.engines.llm").LLMEngine(settings)
    return engine

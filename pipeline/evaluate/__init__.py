"""Scoring the engines on labelled data sets (``summarize eval``).

    from pipeline import evaluate as ev
    ev.evaluate(path, engine.roles)                           # sentence roles on CSAbstruct: micro/macro F1
    summarize = ev.engine_summarizer(settings)                # (title, abstract) -> the engine's output
    ev.evaluate_fields(path, summarize)                       # the sentences behind each field, CSAbstruct roles
    ev.evaluate_tldr(path, summarize)                         # the tldr on SciTLDR: ROUGE-1/2/L
    ev.evaluate_grounding(path)                               # the LLM validators on SciTLDR's human tldrs
    ev.evaluate_llm_fields(path, summarize)                   # each cell against an LLM's fields (data/modern/)
    ev.evaluate_scores(path, summarize)                       # scores against hand labels (data/scores/), anchor

Modules, lowest first: ``data`` (the three file formats and their loaders), ``scoring`` (per-role F1, ROUGE-1 on
cached tokens; training uses both), ``engine`` (the engine as a callable), then one module per measure:
``csabstruct`` (roles and fields), ``tldr``, ``grounding``, ``llm_fields``, ``scores``.
"""

from __future__ import annotations

from pipeline.evaluate.csabstruct import evaluate, evaluate_fields
from pipeline.evaluate.engine import engine_summarizer
from pipeline.evaluate.grounding import evaluate_grounding
from pipeline.evaluate.llm_fields import evaluate_llm_fields
from pipeline.evaluate.scores import evaluate_scores
from pipeline.evaluate.tldr import evaluate_tldr

__all__ = [
    "engine_summarizer",
    "evaluate",
    "evaluate_fields",
    "evaluate_grounding",
    "evaluate_llm_fields",
    "evaluate_scores",
    "evaluate_tldr",
]

"""One paper's outcome as JSON text, for engines that run in another process (Ray actors, local workers).

A worker returns, per paper, the value the cache stores or the error, both as JSON text; the driver caches and
records the value, or reports the error with what its failed attempts cost.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.errors import EngineError
from pipeline.schema import Paper


def summarize_json(engine: Any, paper: Paper) -> tuple[str, str]:
    """``(value, "")`` or ``("", error)``: one paper through a synchronous engine."""
    from pipeline.dispatch.runner import to_cache

    try:
        return json.dumps(to_cache(engine.summarize(paper))), ""
    except Exception as exc:  # one paper's failure never stops the others
        return "", encode_error(exc)


def encode_error(exc: Exception) -> str:
    return json.dumps(
        {
            "error": str(exc)[:2000],
            "kind": type(exc).__name__,
            "attempts": getattr(exc, "attempts", 0),
            "input_tokens": getattr(exc, "input_tokens", 0),
            "output_tokens": getattr(exc, "output_tokens", 0),
            "cost_usd": getattr(exc, "cost_usd", 0.0),
        }
    )


def decode_error(text: str, paper_id: str) -> EngineError:
    data = json.loads(text)
    error = EngineError(f"{data['kind']}: {data['error']}", paper_id=paper_id, attempts=int(data["attempts"]))
    error.input_tokens = int(data["input_tokens"])
    error.output_tokens = int(data["output_tokens"])
    error.cost_usd = float(data["cost_usd"])
    return error

"""What an LLM call costs: USD per input and output token from litellm's price map, looked up once per model.

The openai SDK path never imports litellm (3-4 s and ~200 MB), so there the same map is read as data: litellm ships
it as JSON inside its package (the copy it reads itself under ``LITELLM_LOCAL_MODEL_COST_MAP``), found without
importing the package. Every other path asks litellm, whose lookup knows each provider's naming.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import logging
from pathlib import Path

BATCH_PRICE_FACTOR = 0.5  # OpenAI, Anthropic, Mistral and Vertex all charge half for batch requests
PRICE_MAP = "model_prices_and_context_window_backup.json"
MAX_PRICE_MAP_BYTES = 64 * 2**20


@functools.cache
def _price_map() -> dict:
    spec = importlib.util.find_spec("litellm")  # locates the package; runs none of it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / PRICE_MAP
        with contextlib.suppress(OSError, ValueError):
            if path.stat().st_size <= MAX_PRICE_MAP_BYTES:
                found = json.loads(path.read_bytes())
                if isinstance(found, dict):
                    return found
    return {}


def _from_map(model: str) -> tuple[float, float]:
    """``openai/<name>`` as litellm prices it: the entry under the full name, else under the bare name."""
    table = _price_map()
    for key in (model, model.split("/", 1)[-1]):
        entry = table.get(key)
        if isinstance(entry, dict) and "input_cost_per_token" in entry:
            with contextlib.suppress(TypeError, ValueError):
                return float(entry["input_cost_per_token"]), float(entry.get("output_cost_per_token") or 0.0)
    return 0.0, 0.0


def _from_litellm(model: str) -> tuple[float, float]:
    """litellm's own lookup. A model it has no price for (a local server's) costs nothing, and is registered at
    zero so that litellm's per-response cost calculation stops taking its slow not-found path on every call."""
    import litellm

    try:
        per_in, _ = litellm.cost_per_token(model=model, prompt_tokens=1_000_000, completion_tokens=0)
        _, per_out = litellm.cost_per_token(model=model, prompt_tokens=0, completion_tokens=1_000_000)
        return float(per_in) / 1_000_000, float(per_out) / 1_000_000
    except Exception:  # litellm raises for unknown (local) models: they cost nothing
        provider = model.split("/", 1)[0] if "/" in model else "openai"
        quiet = logging.getLogger("LiteLLM")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # its note about cache-token prices of a custom model is not the user's concern
        with contextlib.suppress(Exception):
            litellm.register_model(
                {
                    model: {
                        "input_cost_per_token": 0.0,
                        "output_cost_per_token": 0.0,
                        "litellm_provider": provider,
                        "mode": "chat",
                    }
                }
            )
        quiet.setLevel(level)
        return 0.0, 0.0


@functools.cache
def prices(model: str, via_litellm: bool = True) -> tuple[float, float]:
    """USD per input and per output token of ``model``; (0, 0) for a model litellm has no price for."""
    return _from_litellm(model) if via_litellm else _from_map(model)

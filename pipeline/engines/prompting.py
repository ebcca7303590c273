"""How a paper is asked: the prompt template (prompts/<name>.md) and its hash, the abstract cut to the token
budget, and the instructor mode a provider answers in."""

from __future__ import annotations

import hashlib
import string
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.engines import clients
from pipeline.errors import ConfigError
from pipeline.extractive.text import split_sentences

if TYPE_CHECKING:
    from pipeline.settings import Settings


PROMPTS_DIR = Path(__file__).resolve().parent.parent.parent / "prompts"
CHARS_PER_TOKEN = 4  # a deliberate over-estimate of tokens for English prose; no tokenizer download needed
_JSON_PROVIDERS = ("ollama", "ollama_chat", "llamacpp", "hosted_vllm", "lm_studio", "vllm")


def prompt_names() -> list[str]:
    """The prompts shipped in prompts/ (``--prompt`` / config ``prompt`` names one)."""
    return sorted(path.stem for path in PROMPTS_DIR.glob("*.md"))


def load_prompt(name: str = "summarize") -> tuple[string.Template, str]:
    """The template of ``prompts/<name>.md`` and its hash (part of every cache key and record's provenance)."""
    # The setting's pattern already keeps a name to [a-z0-9_-]; a name is looked up among the files, never joined.
    known = {path.stem: path for path in PROMPTS_DIR.glob("*.md")}
    if name not in known:
        raise ConfigError(f"prompt {name!r} is not one of prompts/: {', '.join(sorted(known))}")
    raw = known[name].read_bytes()
    return string.Template(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()[:16]


def pick_mode(settings: Settings, api_base: str | None = None) -> str:
    """Tool calling where the provider supports it, JSON for local servers; config can force any mode.

    An ``openai/`` model at a server of one's own (``api_base``, one endpoint, no batch) is asked which server it
    is (`clients.server_mode`): Ollama answers in ``json_schema`` mode, the others in ``tools`` mode.
    """
    if settings.mode != "auto":
        return settings.mode
    provider = settings.model.split("/", 1)[0].lower()
    if provider in _JSON_PROVIDERS:
        return "json"
    if provider == "openai" and api_base and not settings.endpoints and not settings.batch:
        return clients.server_mode(api_base)
    return "tools"


def truncate(abstract: str, max_tokens: int) -> tuple[str, bool]:
    """The abstract cut at a sentence boundary to fit ``max_tokens`` (estimated), and whether it was cut."""
    limit = max_tokens * CHARS_PER_TOKEN
    if len(abstract) <= limit:
        return abstract, False
    kept: list[str] = []
    size = 0
    for sentence in split_sentences(abstract):
        if size + len(sentence) + 1 > limit:
            break
        kept.append(sentence)
        size += len(sentence) + 1
    return (" ".join(kept) if kept else abstract[:limit]), True

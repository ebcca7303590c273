"""The tables of the settings: each ``[[summarize.endpoints]]`` deployment, ``[delivery]``, ``[interests]`` and
``[leaderboard]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Endpoint(BaseModel):
    """One deployment of the model (``[[summarize.endpoints]]``): litellm's Router spreads papers across them."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str = Field(description="The litellm model this endpoint serves, e.g. 'openai/llama-3.1-8b'.")
    api_base: str | None = Field(default=None, description="Base URL of the endpoint (OpenAI-compatible servers).")
    api_key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable that holds this endpoint's key (never the key itself).",
    )
    concurrency: int | None = Field(default=None, ge=1, le=4096, description="Most requests in flight here.")
    rpm: int | None = Field(default=None, ge=1, le=10_000_000, description="Requests per minute this endpoint allows.")


class FeedSpec(BaseModel):
    """One ``[[feeds]]`` table: an RSS or Atom feed that ``summarize run --source feed`` reads."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    url: str = Field(max_length=2000, pattern=r"^https?://\S+$", description="The feed's http(s) URL.")
    name: str | None = Field(default=None, max_length=200, description="What to call it (for the reader only).")


class Delivery(BaseModel):
    """``[delivery]``: where ``summarize digest`` sends the top papers. The SMTP login comes from the environment
    (SUMMARIZE_SMTP_USER / SUMMARIZE_SMTP_PASSWORD) only, never from here."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    top: int = Field(default=10, ge=1, le=200, description="Papers in one digest (the best new ones).")
    email_to: list[str] = Field(default_factory=list, max_length=50, description="Recipients of the digest e-mail.")
    email_from: str | None = Field(default=None, max_length=320, description="The e-mail's From address.")
    smtp_host: str | None = Field(default=None, max_length=255, description="SMTP server (e.g. smtp.gmail.com).")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port (587 for STARTTLS).")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS (verified).")
    smtp_timeout_s: float = Field(default=30.0, gt=0, le=300, description="Seconds before the SMTP server is given up.")
    webhook: str | None = Field(
        default=None,
        max_length=2000,
        description="Slack/Discord-compatible webhook URL (a secret: prefer the SUMMARIZE_WEBHOOK_URL variable).",
    )
    webhook_timeout_s: float = Field(default=20.0, gt=0, le=120, description="Seconds the webhook may take in all.")
    remember: int = Field(
        default=20_000, ge=100, le=1_000_000, description="Most papers delivered.json remembers (oldest dropped)."
    )

    @field_validator("email_to", "email_from")
    @classmethod
    def _addresses(cls, value: Any) -> Any:
        """One plain address each (name@host): no display name, comma or line break can add a header or recipient."""
        import re

        for address in value if isinstance(value, list) else [value] if value else []:
            if not re.fullmatch(r"[^\s@<>,;:\\\"()\[\]]+@[A-Za-z0-9.-]+", address):
                raise ValueError(f"{address!r} is not a plain e-mail address such as name@example.org")
        return value


class Interests(BaseModel):
    """``[interests]``: what this reader cares about, for ``summarize rank`` and the order ``run`` renders in. The
    corpus and the cache never depend on it: another reader re-ranks without re-summarising."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    library: list[Path] = Field(
        default_factory=list,
        max_length=50,
        description="Files of papers the reader cares about: BibTeX, RIS, CSL-JSON, a feedback export, JSONL/CSV/JSON "
        "paper lists or a corpus.jsonl (--library, repeatable).",
    )
    keywords: dict[str, float] = Field(
        default_factory=dict,
        max_length=500,
        description='Phrases that pull a paper up, each with a weight: ["nerf", "gaussian splatting"] (weight 1) or '
        '[interests.keywords] "nerf" = 2.0.',
    )
    authors: list[str] = Field(default_factory=list, max_length=500, description="Authors to follow, as written.")
    exclude: list[str] = Field(default_factory=list, max_length=500, description="Phrases that push a paper down.")
    description: str = Field(
        default="", max_length=4000, description="The reader's interests in words, for the LLM judge (--rank-model)."
    )
    top: int = Field(default=20, ge=1, le=10_000, description="Papers in the digest, best first (--top).")
    threshold: float | None = Field(
        default=None, ge=0, le=100, description="Only papers scoring at least this go in the digest (besides --top)."
    )
    rank_model: str | None = Field(
        default=None, max_length=200, description="LLM that re-judges the ranking's top, e.g. 'openai/gpt-4o-mini'."
    )
    judge_top_k: int = Field(default=50, ge=1, le=1000, description="Papers of the ranking the LLM judge reads.")

    @field_validator("keywords", mode="before")
    @classmethod
    def _weighted(cls, value: Any) -> Any:
        """A list of phrases is a table of weight 1; a phrase is trimmed, non-empty, at most 200 characters."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            if not all(isinstance(phrase, str) for phrase in value):
                raise ValueError("keywords: a list of phrases, or a table of phrase = weight")
            value = {phrase: 1.0 for phrase in value}
        if isinstance(value, dict):
            for phrase, weight in value.items():
                if not isinstance(phrase, str) or not phrase.strip() or len(phrase) > 200:
                    raise ValueError(f"keyword {str(phrase)[:40]!r}: a phrase of 1 to 200 characters")
                if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 10:
                    raise ValueError(f"keyword {phrase!r}: its weight must be a number above 0 and at most 10")
            return {" ".join(p.split()): float(w) for p, w in value.items()}
        return value

    @field_validator("authors", "exclude")
    @classmethod
    def _phrases(cls, value: list[str]) -> list[str]:
        out = [" ".join(v.split()) for v in value]
        bad = next((v for v in out if not v or len(v) > 200), None)
        if bad is not None:
            raise ValueError(f"{bad[:40]!r}: each must be 1 to 200 characters")
        return out

    @field_validator("library", mode="after")
    @classmethod
    def _expand_home(cls, value: list[Path]) -> list[Path]:
        return [path.expanduser() for path in value]


class Leaderboard(BaseModel):
    """``[leaderboard]``: how ``summarize leaderboard`` and the page's Scores view line scores up. The built-in
    synonyms and direction table (`pipeline.leaderboard.names`, docs/leaderboards.md) come first; these extend
    and override them."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    min_papers: int = Field(default=2, ge=2, le=1000, description="Papers a benchmark needs to become a leaderboard.")
    lower_is_better: list[str] = Field(
        default_factory=list, max_length=500, description='Metrics where less is better, e.g. ["edit distance"].'
    )
    higher_is_better: list[str] = Field(
        default_factory=list, max_length=500, description="Metrics where more is better (overrides the table)."
    )
    synonyms: dict[str, str] = Field(
        default_factory=dict,
        max_length=2000,
        description='Names that mean another, for datasets and metrics: [leaderboard.synonyms] "ImageNet" = '
        '"ImageNet-1K".',
    )

    @field_validator("lower_is_better", "higher_is_better")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        out = [" ".join(v.split()) for v in value]
        bad = next((v for v in out if not v or len(v) > 200), None)
        if bad is not None:
            raise ValueError(f"{bad[:40]!r}: each metric name must be 1 to 200 characters")
        return out

    @field_validator("synonyms")
    @classmethod
    def _pairs(cls, value: dict[str, str]) -> dict[str, str]:
        for name, means in value.items():
            for text in (name, means):
                if not text.strip() or len(text) > 200:
                    raise ValueError(f"synonym {text[:40]!r}: each name must be 1 to 200 characters")
        return value

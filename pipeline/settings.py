"""Settings: one pydantic model, filled from config.toml < environment (SUMMARIZE_*) < command-line flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError
from pipeline.files import read_regular
from pipeline.sections import Delivery, Endpoint, FeedSpec, Interests, Leaderboard

ENV_PREFIX = "SUMMARIZE_"
DEFAULT_CONFIG = Path("config.toml")


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("summarize"))


class Settings(BaseModel):
    """Every knob of a run. A key config.toml does not know is an error, not a silent default."""

    # Every number is finite and ranged: "inf" or "nan" from the environment is a settings error, never an
    # OverflowError deep in a run.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    model: str = Field(
        default="embedded",
        description="'embedded' (local, no key) or a litellm model name such as 'openai/gpt-4o-mini'.",
    )
    out_dir: Path = Field(default=Path("out"), description="Folder for corpus.jsonl, tables and run.json.")
    cache_dir: Path = Field(default_factory=default_cache_dir, description="diskcache folder; env SUMMARIZE_CACHE_DIR.")
    concurrency: int = Field(default=8, ge=1, le=512, description="Most LLM requests in flight at once.")
    max_retries: int = Field(default=2, ge=0, le=10, description="Re-asks after a response fails validation.")
    request_retries: int = Field(default=4, ge=0, le=20, description="Retries of a 429, 5xx or timeout.")
    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="Seconds before one LLM request is abandoned.")
    max_cost_usd: float | None = Field(default=None, ge=0, le=1_000_000, description="Stop dispatching at this spend.")
    mode: Literal["auto", "tools", "json_schema", "json", "md_json"] = Field(
        default="auto",
        description="instructor mode; 'auto' picks tools or JSON by provider, and asks a --api-base server which "
        "it is (Ollama: json_schema, others: tools).",
    )
    api_base: str | None = Field(default=None, description="Base URL of an OpenAI-compatible server.")
    prompt: str = Field(
        default="summarize",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="LLM engine: the prompt, a file of prompts/ by name: 'summarize' (paraphrase, any capable "
        "model) or 'extractive' (copy the abstract's sentences: small local models, docs/llm-local.md).",
    )
    temperature: float = Field(default=0.0, ge=0, le=2, description="LLM sampling temperature.")
    max_input_tokens: int = Field(
        default=3000, ge=100, le=10_000_000, description="Abstracts above this are truncated."
    )
    max_output_tokens: int = Field(default=1024, ge=64, le=1_000_000, description="Completion token limit per call.")
    max_abstract_chars: int = Field(
        default=2_000_000,
        ge=1000,
        le=100_000_000,
        description="Longer abstracts are refused with a clear error. Below it, the embedded engine reads the first "
        "400 sentences and the LLM engine truncates to max_input_tokens, so time and memory stay bounded.",
    )
    html: bool = Field(default=True, description="Also write comparison.html.")
    corpus_layout: Literal["auto", "single", "partitioned"] = Field(
        default="auto",
        description="'single': one corpus.jsonl, tables of the whole corpus; 'partitioned': corpus/YYYY-MM.jsonl by "
        "first-seen month with corpus/manifest.json, the tables and page hold this run's digest and archive/ one "
        "file set per period (docs/archive.md); 'auto': single until the corpus passes 10,000 records or 20 MB, "
        "then partitioned (once, said in the report). Switching migrates the existing corpus.",
    )
    corpus_partition: Literal["month", "week"] = Field(
        default="month",
        description="Partitioned layout: corpus/YYYY-MM.jsonl by first-seen month, or corpus/YYYY-Www.jsonl by ISO "
        "week (a category of hundreds of papers a day keeps each file under 20 MB).",
    )
    archive_period: Literal["day", "week", "month"] = Field(
        default="day", description="Partitioned layout: one archive page per day, ISO week or month of first sight."
    )
    title: str = Field(default="Paper comparison", max_length=200, description="Title of the page and the feed.")
    feed: bool = Field(default=True, description="Also write feed.xml (Atom 1.0), newest records first.")
    feed_max_entries: int = Field(default=200, ge=1, le=100_000, description="Most entries in feed.xml.")
    site_url: str | None = Field(
        default=None, description="Where the page is published (https://…): the feed's id and self link."
    )
    lock_wait_s: float = Field(default=0.0, ge=0, le=86_400, description="Seconds to wait for another run's lock.")
    fetch_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="Remote sources: seconds of silence before a retry."
    )
    fetch_deadline_s: float = Field(
        default=120.0,
        gt=0,
        le=86_400,
        description="Remote sources: most seconds one response may take in all, however it drips.",
    )
    fetch_max_mb: int = Field(
        default=64, ge=1, le=4096, description="Remote sources: largest response body (decoded) in MB."
    )
    resolve: bool = Field(
        default=False, description="Look up arXiv ids by title, arXiv metadata and the Hub's links (--resolve)."
    )
    full_text: bool = Field(
        default=False, description="Read each arXiv paper's HTML (or PDF) for its own links (--full-text)."
    )
    arxiv_interval_s: float = Field(
        default=3.0, ge=0, le=3600, description="Seconds between requests to arxiv.org (arXiv asks for 3)."
    )
    shard: str | None = Field(
        default=None,
        pattern=r"^\d+/\d+$",
        description="'K/N': only the papers whose id hashes to shard K of N (0 ≤ K < N); merge with summarize merge.",
    )
    endpoints: list[Endpoint] = Field(
        default_factory=list,
        max_length=64,
        description="Several deployments of the model, spread by litellm's Router (a failing one is cooled down and "
        "its papers retried on the others); empty: one endpoint, --model and --api-base.",
    )
    endpoint_cooldown_s: float = Field(
        default=30.0, ge=0, le=86_400, description="Seconds a failing endpoint is left out before it is tried again."
    )
    batch: bool = Field(
        default=False,
        description="LLM: send the papers not cached through the provider's batch API (/v1/files + /v1/batches) at "
        "batch prices; the batch id is saved in the output folder, so a killed run resumes it (--batch).",
    )
    batch_poll_s: float = Field(
        default=30.0, gt=0, le=86_400, description="--batch: seconds between polls of the batch."
    )
    batch_max_wait_s: float = Field(
        default=26 * 3600.0,
        gt=0,
        le=30 * 86_400,
        description="--batch: stop polling after this long (the batch is kept to resume).",
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description="'local' (this process) or 'ray': cache misses summarised on a Ray cluster with Ray Data "
        '(RAY_ADDRESS picks one, else a local Ray starts; pip install -e ".[ray]").',
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Local executor, embedded engine: processes summarising cache misses (default: one per CPU; "
        "1: this process only).",
    )
    ray_workers: int | None = Field(
        default=None, ge=1, le=4096, description="--executor ray: engine workers (default: one per CPU of the cluster)."
    )
    fetch_max_pages: int = Field(
        default=200, ge=1, le=100_000, description="Remote sources: most pages one fetch requests."
    )
    biorxiv_api: str = Field(
        default="https://api.biorxiv.org",
        pattern=r"^https?://\S+$",
        description="bioRxiv/medRxiv: the base that /details/... hangs from (a mirror; env SUMMARIZE_BIORXIV_API).",
    )
    biorxiv_interval_s: float = Field(default=1.0, ge=0, le=3600, description="Seconds between bioRxiv requests.")
    openreview_api: str = Field(
        default="https://api2.openreview.net",
        pattern=r"^https?://\S+$",
        description="OpenReview: the base of /notes (API v2; env SUMMARIZE_OPENREVIEW_API).",
    )
    openreview_interval_s: float = Field(default=1.0, ge=0, le=3600, description="Seconds between OpenReview requests.")
    feeds: list[FeedSpec] = Field(
        default_factory=list,
        max_length=200,
        description="[[feeds]]: RSS/Atom feeds that --source feed reads when no URL is given.",
    )
    feed_stale_days: float = Field(
        default=14.0, gt=0, le=3660, description="--source feed: a feed whose newest entry is older is stale (exit 6)."
    )
    zotero_api: str = Field(
        default="https://api.zotero.org",
        pattern=r"^https?://\S+$",
        description="Zotero Web API: the base of /users/... and /groups/... (env SUMMARIZE_ZOTERO_API).",
    )
    zotero_collections: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="--library zotero:…: only items in these collections (names or globs, 'Reading/*'); empty: all.",
    )
    zotero_ignore: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="--library zotero:…: leave out items in these collections (names or globs).",
    )
    delivery: Delivery = Field(default_factory=Delivery, description="[delivery]: e-mail and webhook of the digest.")
    interests: Interests = Field(default_factory=Interests, description="[interests]: what this reader ranks by.")
    leaderboard: Leaderboard = Field(
        default_factory=Leaderboard, description="[leaderboard]: metric directions and name synonyms of the boards."
    )

    @field_validator("endpoints", mode="before")
    @classmethod
    def _endpoints_from_json(cls, value: Any) -> Any:
        """SUMMARIZE_ENDPOINTS holds the list as JSON text."""
        if isinstance(value, str):
            import json

            try:
                return json.loads(value)
            except ValueError as exc:
                raise ValueError(f"endpoints: not a JSON list ({exc})") from exc
        return value

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds_from_text(cls, value: Any) -> Any:
        """SUMMARIZE_FEEDS: feed URLs apart by spaces, commas or lines; a list of URLs is a list of feeds."""
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if isinstance(value, list):
            return [{"url": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("zotero_collections", "zotero_ignore", mode="before")
    @classmethod
    def _names_from_text(cls, value: Any) -> Any:
        """From the environment: collection names apart by commas (a name may hold spaces)."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("shard")
    @classmethod
    def _shard_in_range(cls, value: str | None) -> str | None:
        if value is not None:
            k, n = (int(x) for x in value.split("/"))
            if not 0 <= k < n:
                raise ValueError(f"shard {value}: K must be at least 0 and below N")
        return value

    @model_validator(mode="after")
    def _secrets_known(self) -> Settings:
        """The variables and URLs these settings name hold secrets: masked wherever text leaves (secrets.py)."""
        from pipeline import secrets

        secrets.register_variables(e.api_key_env for e in self.endpoints)
        secrets.register_urls([self.api_base, self.site_url, *(e.api_base for e in self.endpoints)])
        secrets.register_urls([self.biorxiv_api, self.openreview_api, self.zotero_api, *(f.url for f in self.feeds)])
        return self

    @field_validator("out_dir", "cache_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        """``~`` means the home folder in every path setting, as in a shell (never a folder named ``~``)."""
        return value.expanduser()


_SECTIONS = tuple(  # settings that are tables of their own in config.toml ([delivery], [interests])
    name
    for name, info in Settings.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
)


MAX_CONFIG_BYTES = 1 << 20


def _read_toml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give the config.toml file itself (--config or SUMMARIZE_CONFIG)")
    try:  # a regular file of bounded size: never a device such as /dev/zero, which never ends
        data = tomllib.loads(read_regular(path, limit=MAX_CONFIG_BYTES).decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    section = data.get("summarize", data)
    if "summarize" in data and isinstance(section, dict):  # [delivery] beside [summarize] is a section of it
        for name, table in data.items():
            if name != "summarize" and isinstance(table, dict | list) and name in Settings.model_fields:
                section.setdefault(name, table)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [summarize] must be a table")
    return section


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = raw
    library = environ.get(ENV_PREFIX + "LIBRARY", "").split()
    if library:  # SUMMARIZE_LIBRARY="zotero:123 refs.bib": [interests] library (the Action's repository variable)
        values["interests"] = {"library": library}
    return values


def load_settings(
    config: Path | None = None, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Settings from the config file (explicit, or ./config.toml when present), environment, then flags."""
    return resolve_settings(config, overrides, environ)[0]


def _origins(values: dict[str, Any], where: str) -> dict[str, str]:
    """``where`` for every key of ``values``, and for every key of a section ([delivery], [interests]) in it."""
    found: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict) and key in _SECTIONS:
            found.update({f"{key}.{sub}": where for sub in value})
        else:
            found[key] = where
    return found


def resolve_settings(
    config: Path | None = None, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> tuple[Settings, Path | None, dict[str, str]]:
    """`load_settings`, with the config file it read (None: none) and where each value came from, by key
    (``section.key`` inside a section): ``file``, ``environment`` or ``flag``; a key not there is a default."""
    environ = dict(os.environ if environ is None else environ)
    origins: dict[str, str] = {}
    path = config or (Path(environ["SUMMARIZE_CONFIG"]).expanduser() if environ.get("SUMMARIZE_CONFIG") else None)
    values: dict[str, Any] = {}
    origin = "defaults"
    if path is not None and not path.exists():
        raise ConfigError(f"{path}: config file not found")
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    if path is not None:
        values = _read_toml(path)
        origin = str(path)
        unknown = sorted(set(values) - set(Settings.model_fields))
        if unknown:
            raise ConfigError(
                f"{path}: unknown key {', '.join(map(repr, unknown))}; known keys: " + ", ".join(Settings.model_fields)
            )
        origins.update(_origins(values, "file"))
    from_env = _from_env(environ)
    if isinstance(from_env.get("interests"), dict) and isinstance(values.get("interests"), dict):
        from_env["interests"] = {**values["interests"], **from_env["interests"]}  # one key of the file's section
    values.update(from_env)
    origins.update(_origins(from_env, "environment"))
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):  # a flag sets one key of a section
            given = {k: v for k, v in value.items() if v is not None}
            value = {**values[key], **given}
            origins.update(_origins({key: given}, "flag"))
        elif value is not None:
            origins.update(_origins({key: value}, "flag"))
        if value is not None:
            values[key] = value
    try:
        return Settings(**values), path, origins
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise ConfigError(f"invalid settings ({origin}, environment, flags): {problems}") from exc

"""The record contract (schema version 3), defined once.

`Paper` is what a source yields, `Summary` is what an engine fills in (and the response model an LLM is
asked for), `Record` is one line of ``corpus.jsonl``. Grounding rules live in the validators so that an LLM
re-ask receives the exact reason a field was refused.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from pipeline.claims import (
    MIN_CLAIM_WORDS,
    foreign_urls,
    name_grounded,
    normalise_url,
    not_prose,
    numbers_in,
    numbers_stated,
    ungrounded,
    url_occurs_in,
)
from pipeline.quantities import MAX_SCORES, score_problem
from pipeline.values import MAX_META_DEPTH, Published, RecordId, json_depth

SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # corpus lines of these versions are read (older ones upgraded on the way)

# What the validators ground a summary in, for callers that cannot pass pydantic's ``context=`` (instructor turns
# ``context=`` into Jinja rendering of the messages, which would alter paper text such as ``{{x}}``).
GROUNDING: ContextVar[dict[str, Any] | None] = ContextVar("grounding", default=None)


def _grounding(info: ValidationInfo) -> dict[str, Any]:
    return info.context if info.context is not None else (GROUNDING.get() or {})


LinkKind = Literal["code", "project", "dataset", "demo", "video", "paper", "other"]
LINK_KINDS: tuple[str, ...] = ("code", "project", "dataset", "demo", "video", "paper", "other")

MAX_LINKS = 100  # links one paper keeps (its text, metadata and full text together): a flood stops here


class Link(BaseModel):
    """A URL the paper's text or metadata gives, with what it points to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="The URL exactly as it appears in the paper's text, with a scheme.")
    kind: LinkKind = Field(description="What the link points to.")


LinkOrigin = Literal["abstract", "metadata", "full_text"]


class SourcedLink(Link):
    """A link in the corpus, with where it was found: the abstract (or title), the source's or the Hub's
    metadata, or the paper's full text (its arXiv HTML or PDF)."""

    origin: LinkOrigin = Field(default="abstract", description="Where the link was found.")


class Paper(BaseModel):
    """One paper as a source yields it, before any engine has seen it."""

    model_config = ConfigDict(extra="forbid")

    id: RecordId
    title: str
    abstract: str
    url: str | None = None
    authors: list[str] = Field(default_factory=list)
    published: Published = None
    source: str = Field(description="Where the paper came from: file path, 'stdin', 'hf-daily', 'arxiv'.")
    version: int | None = Field(default=None, description="arXiv version number, when known.")
    meta: dict[str, Any] = Field(default_factory=dict, description="Source metadata kept as given.")
    links: list[SourcedLink] = Field(
        default_factory=list, description="Links the source's metadata, the Hub or the full text give."
    )

    @property
    def text(self) -> str:
        """Everything a summary may be grounded in."""
        return f"{self.title}\n{self.abstract}"


class Score(BaseModel):
    """One quantitative result the abstract states: a number with what it measures, where, and whose it is."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(
        description="The number exactly as the abstract writes it, with its unit or sign: '85.3%', '3.2x', '+4.5', "
        "'0.91', '3-5%'. Qualifiers ('up to', 'over', '~') are left out."
    )
    number: float = Field(description="The value as a number, as written (85.3 for '85.3%'; a range: its first).")
    unit: str = Field(default="", description="'%', 'x', 'points', 'dB', 's', ... or '' for a plain number.")
    metric: str = Field(default="", description="What is measured, as named: 'top-1 accuracy', 'FID', 'speedup'.")
    dataset: str = Field(
        default="", description="The dataset or benchmark the sentence names for it ('ImageNet', 'MMLU'), else ''."
    )
    task: str = Field(default="", description="The task named for it ('image classification'), else ''.")
    subject: str = Field(
        default="", description="Whose result: the paper's method name, 'ours', or a baseline's name as written."
    )
    own: bool = Field(default=True, description="The paper's own result (false: a baseline's or prior work's).")
    kind: Literal["absolute", "delta"] = Field(
        default="absolute", description="'absolute' (a level reached) or 'delta' (a gain, reduction or speedup)."
    )
    relative_to: str = Field(default="", description="For a delta: what it is relative to, as named; else ''.")
    sentence: int = Field(description="0-based index of the abstract sentence that states it.")


class Summary(BaseModel):
    """What an engine fills in for one paper. Every field is grounded in the abstract."""

    model_config = ConfigDict(extra="forbid")

    # Limits are checked in validators, not as JSON-Schema constraints: their messages reach the model on a
    # re-ask, and grammar-constrained local servers (llama.cpp) choke on large repetition bounds.
    tldr: str = Field(description="One sentence (at most 400 characters): the paper's main contribution.")
    problem: str = Field(description="The problem or gap the paper addresses (at most 1500 characters).")
    method: str = Field(description="How the paper addresses it (at most 1500 characters).")
    results: list[str] = Field(
        description="The paper's findings, one claim per item (1 to 12 items); numbers quoted exactly as in "
        "the abstract."
    )
    links: list[Link] = Field(
        default_factory=list, description="Code, project, dataset, demo or video URLs found in the text."
    )
    tasks: list[str] = Field(default_factory=list, description="Tasks the paper addresses, as named.")
    datasets: list[str] = Field(default_factory=list, description="Datasets or benchmarks named.")
    metrics: list[str] = Field(default_factory=list, description="Evaluation metrics named.")
    scores: list[Score] = Field(
        default_factory=list,
        description="Every quantitative result the abstract states, one per number (a paper's or a baseline's "
        "score, a gain or reduction, a speedup). Not a score: years, version numbers, numbers in model names "
        "('GPT-4', 'Llama-3-8B', '3D'), dataset or model sizes ('10k images', 'a 7B model'), counts of what was "
        "evaluated ('6 benchmarks') and hyper-parameters ('k = 5'). [] when it states none.",
    )

    @field_validator("tldr", "problem", "method")
    @classmethod
    def _not_blank(cls, value: str, info: ValidationInfo) -> str:
        value = " ".join(value.split())
        if not value and info.field_name == "problem" and not _grounding(info).get("require_problem", True):
            return value  # the embedded engine leaves a problem it is unsure of empty: the page says "not stated"
        if not value:
            raise ValueError("must state something; an empty or whitespace-only text is not allowed")
        limit = 400 if info.field_name == "tldr" else 1500
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters; keep it under {limit}")
        source = _grounding(info).get("text")
        invented = foreign_urls(value, source) if source is not None else []
        if invented:
            raise ValueError(f"mentions {invented[0]}, which the paper's text does not contain; leave URLs out")
        share = ungrounded(value, source) if source is not None else None
        if share is not None:
            raise ValueError(
                f"only {share:.0%} of its words occur in the title or abstract; restate it from the abstract"
            )
        return value

    @field_validator("results")
    @classmethod
    def _claims_grounded(cls, claims: list[str], info: ValidationInfo) -> list[str]:
        # The same claim twice is one claim (a small model repeats itself): kept once, in its first place.
        claims = list(dict.fromkeys(" ".join(c.split()) for c in claims))
        # An LLM is always asked for a claim; the embedded engine leaves results empty when no sentence of the
        # abstract is probably a finding (a wrong "key result" is worse than none).
        if not claims and _grounding(info).get("require_results", True):
            raise ValueError("give at least one result claim")
        if len(claims) > 12:
            raise ValueError(f"{len(claims)} claims; give the 12 most important at most")
        for i, claim in enumerate(claims):
            if not claim:
                raise ValueError(f"results[{i}] is empty: give one claim per item")
            if len(claim) > 700:
                raise ValueError(f"results[{i}] is {len(claim)} characters: split it into separate claims")
            if 0 < len(claim.split()) < MIN_CLAIM_WORDS:
                raise ValueError(
                    f"results[{i}] is {claim[:60]!r}, a name, not a finding: state in a sentence what the paper found"
                )
            if not_prose(claim):
                raise ValueError(
                    f"results[{i}] is a file name or path, not a finding: state in words what the paper found"
                )
        abstract = _grounding(info).get("abstract")
        text = _grounding(info).get("text")
        for i, claim in enumerate(claims):
            invented = foreign_urls(claim, text) if text is not None else []
            if invented:
                raise ValueError(f"results[{i}] mentions {invented[0]}, which the paper's text does not contain")
        if abstract is not None:
            stated = numbers_stated(abstract)
            for i, claim in enumerate(claims):
                missing = sorted(numbers_in(claim) - stated)
                if missing:
                    raise ValueError(
                        f"results[{i}] cites {', '.join(missing)}, which the abstract does not state; "
                        "quote numbers exactly as the abstract writes them"
                    )
                share = ungrounded(claim, abstract)
                if share is not None:
                    raise ValueError(
                        f"results[{i}]: only {share:.0%} of its words occur in the abstract; state a finding the "
                        "abstract reports"
                    )
        return claims

    @field_validator("links")
    @classmethod
    def _links_grounded(cls, links: list[Link], info: ValidationInfo) -> list[Link]:
        """Drop any link the paper's text does not contain: a model cannot invent one."""
        text = _grounding(info).get("text")
        if text is None:
            return links[:MAX_LINKS]
        # Deduplicated by key and capped: an answer repeating one URL 20,000 times, or listing 20,000, costs a
        # set lookup per link and at most 2 x MAX_LINKS searches of the text (lower-cased once).
        lowered = text.lower()
        kept: list[Link] = []
        seen: set[str] = set()
        dropped = _grounding(info).setdefault("dropped_links", set())  # a set: re-asks repeat them
        for link in links:
            key = normalise_url(link.url).lower()
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > 2 * MAX_LINKS or len(kept) >= MAX_LINKS:
                break
            if key and key in lowered:
                kept.append(link)
            elif len(dropped) < MAX_LINKS:
                dropped.add(link.url)
        return kept

    @field_validator("tasks", "datasets", "metrics")
    @classmethod
    def _short_names(cls, names: list[str], info: ValidationInfo) -> list[str]:
        """Names the abstract states, like every other field: a name with a URL the text lacks, a number the
        abstract does not state, or words it does not hold ("SOTA 99.9%", an echoed key) is dropped."""
        abstract = _grounding(info).get("abstract")
        text = _grounding(info).get("text")
        out: list[str] = []
        for name in names[:50]:
            name = " ".join(name.split())
            if not name or len(name) > 120 or name in out:
                continue
            if text is not None and foreign_urls(name, text):
                continue
            if abstract is not None and not name_grounded(name, abstract):
                continue
            out.append(name)
        return out


    @field_validator("scores")
    @classmethod
    def _scores_grounded(cls, scores: list[Score], info: ValidationInfo) -> list[Score]:
        """Each score's number is in its sentence, its names are the abstract's, and it is a result (not a year,
        a name, a size or a setting): the first that is not is refused with what to fix."""
        if len(scores) > MAX_SCORES:
            raise ValueError(f"{len(scores)} scores; give the {MAX_SCORES} most important at most")
        abstract = _grounding(info).get("abstract")
        if abstract is None:
            return scores
        for i, score in enumerate(scores):
            problem = score_problem(score.model_dump(), abstract, _grounding(info))
            if problem is not None:
                raise ValueError(f"scores[{i}] ({score.value!r}) {problem}")
        return scores


class Evidence(BaseModel):
    """For each field, the indices (0-based) of the abstract sentences that support it."""

    model_config = ConfigDict(extra="forbid")

    tldr: list[int] = Field(default_factory=list)
    problem: list[int] = Field(default_factory=list)
    method: list[int] = Field(default_factory=list)
    results: list[list[int]] = Field(default_factory=list, description="One list of sentence indices per result claim.")


class Provenance(BaseModel):
    """How a record was made: enough to reproduce it or to price it."""

    model_config = ConfigDict(extra="forbid")

    engine: str
    model: str
    prompt_hash: str
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    attempts: int = 1
    truncated: bool = Field(default=False, description="The abstract was cut to the token budget.")
    notes: list[str] = Field(default_factory=list)


class Record(BaseModel):
    """One line of corpus.jsonl. Keys and meanings are stable within a schema version."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[3] = 3
    id: RecordId = Field(description="'arxiv:<id>' without version, else the source's id, else 'title:<hash>'.")
    title: str
    authors: list[str] = Field(default_factory=list)
    abstract: str
    url: str | None = None
    published: Published = None
    source: str
    source_meta: dict[str, Any] = Field(default_factory=dict)
    tldr: str
    problem: str
    method: str
    results: list[str]
    links: list[SourcedLink]
    tasks: list[str]
    datasets: list[str]
    metrics: list[str]
    scores: list[Score] = Field(default_factory=list)
    evidence: Evidence
    provenance: Provenance

    @field_validator("source_meta")
    @classmethod
    def _shallow_meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        if json_depth(value) > MAX_META_DEPTH:
            raise ValueError(f"source_meta is nested deeper than {MAX_META_DEPTH} levels")
        return value

    @classmethod
    def build(cls, paper: Paper, output: dict[str, Any]) -> Record:
        """The record of ``paper`` from an engine's output (``summary``, ``evidence``, ``provenance`` as JSON
        objects, as the cache holds them). One validation; raises ValidationError for a bad output."""
        meta = dict(paper.meta)
        if paper.version is not None:
            meta["version"] = paper.version
        summary = output["summary"]
        known = {normalise_url(link.url): link.origin for link in paper.links}
        links = [
            {**link, "origin": known.get(normalise_url(str(link.get("url", ""))), "abstract")}
            for link in summary.get("links") or []
        ]
        return cls.model_validate(
            {
                **summary,
                "links": links,
                "id": paper.id,
                "title": paper.title,
                "authors": paper.authors,
                "abstract": paper.abstract,
                "url": paper.url,
                "published": paper.published,
                "source": paper.source,
                "source_meta": meta,
                "evidence": output["evidence"],
                "provenance": output["provenance"],
            }
        )

    @staticmethod
    def upgrade(obj: dict[str, Any]) -> dict[str, Any]:
        """A corpus record of an older schema version as this version writes it.

        Version 1 → 2: links gain ``origin``; a v1 link the title or abstract contains came from the abstract,
        any other from the source's metadata. Version 2 → 3: ``scores`` (none known: ``[]``).
        """
        if obj.get("schema_version") == 1:
            text = f"{obj.get('title', '')}\n{obj.get('abstract', '')}"
            obj = {**obj, "schema_version": 2}
            obj["links"] = [
                {**link, "origin": "abstract" if url_occurs_in(str(link.get("url", "")), text) else "metadata"}
                for link in obj.get("links") or []
                if isinstance(link, dict)
            ]
        if obj.get("schema_version") == 2:
            obj = {**obj, "schema_version": 3, "scores": obj.get("scores") or []}
        return obj

    @property
    def version(self) -> int | None:
        v = self.source_meta.get("version")
        return v if isinstance(v, int) else None

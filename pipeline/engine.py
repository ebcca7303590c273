"""Engines: a paper goes in, a validated summary (with evidence and provenance) comes out.

`EmbeddedEngine` is the default: the sentence-role model of `pipeline.roles` picks which sentences of
the abstract state the problem, the method and the results. It is local, needs no key, and never imports
litellm. `get_engine` builds the LLM engine (`pipeline.llm`) only when a model name asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pipeline import extract, links
from pipeline.roles import ROLES, default_model, model_hash
from pipeline.schema import Evidence, Paper, Provenance, Summary
from pipeline.text import split_sentences

if TYPE_CHECKING:
    from pipeline.settings import Settings

EMBEDDED = "embedded"
MAX_SENTENCES = 400  # bounded work on pathological (1 MB) abstracts
_CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study)|our (work|paper|approach))\b.{0,40}?\b(propose|introduce|present|develop|"
    r"design|show|demonstrate|find|release|build|describe)",
    re.IGNORECASE,
)
_GAP = re.compile(
    r"\b(however|but|remain|remains|challenge|challenging|lack|lacks|limited|limitation|difficult|problem|"
    r"issue|fail|fails|struggle|costly|expensive|unclear|open question|underexplored|bottleneck)\b",
    re.IGNORECASE,
)
_LINK_ONLY = re.compile(r"(https?://|github\.com|available at|code is|project page)", re.IGNORECASE)


@dataclass
class EngineOutput:
    summary: Summary
    evidence: Evidence
    provenance: Provenance
    roles: list[str] = field(default_factory=list)


class Engine(Protocol):
    name: str
    model: str
    prompt_hash: str
    is_async: bool

    def params(self) -> dict[str, Any]: ...

    def summarize(self, paper: Paper) -> EngineOutput: ...


def grounding_context(paper: Paper) -> dict[str, Any]:
    """What validators check a summary against: the abstract, and all text a link may come from."""
    meta_links = " ".join(link.url for link in paper.links)
    return {"abstract": paper.abstract, "text": f"{paper.text}\n{meta_links}"}


class EmbeddedEngine:
    """Extractive summaries from predicted sentence roles. Deterministic, local, about a millisecond a paper."""

    name = EMBEDDED
    is_async = False

    def __init__(self) -> None:
        self.roles_model = default_model()
        self.model = "roles-crf-v1"
        self.prompt_hash = model_hash()

    def params(self) -> dict[str, Any]:
        return {"max_sentences": MAX_SENTENCES}

    def roles(self, sentences: list[str]) -> list[str]:
        return self.roles_model.predict(sentences)

    def summarize(self, paper: Paper) -> EngineOutput:
        sentences = split_sentences(paper.abstract)[:MAX_SENTENCES]
        role_ids, scores = self.roles_model.predict_ids(sentences)
        roles = [ROLES[i] for i in role_ids]
        picks = _pick(sentences, roles, scores)
        summary = Summary.model_validate(
            {
                "tldr": _clip(sentences[picks["tldr"][0]], 400),
                "problem": _clip(" ".join(sentences[i] for i in picks["problem"]), 1500),
                "method": _clip(" ".join(sentences[i] for i in picks["method"]), 1500),
                "results": [_clip(sentences[i], 700) for i in picks["results"]],
                "links": links.merge(paper.links, links.extract_links(paper.text)),
                "tasks": extract.find_tasks(paper.abstract),
                "datasets": extract.find_datasets(paper.abstract),
                "metrics": extract.find_metrics(paper.abstract),
            },
            context=grounding_context(paper),
        )
        evidence = Evidence(
            tldr=picks["tldr"],
            problem=picks["problem"],
            method=picks["method"],
            results=[[i] for i in picks["results"]],
        )
        provenance = Provenance(engine=self.name, model=self.model, prompt_hash=self.prompt_hash)
        return EngineOutput(summary, evidence, provenance, roles)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _pick(sentences: list[str], roles: list[str], scores: Any) -> dict[str, list[int]]:
    """Sentence indices for each field, from the predicted roles (falling back to the best-scoring one)."""
    if not sentences:
        raise ValueError("abstract has no sentences")
    usable = [i for i, s in enumerate(sentences) if not (_LINK_ONLY.search(s) and len(s) < 160)] or [0]

    def by_role(*names: str) -> list[int]:
        return [i for i in usable if roles[i] in names]

    def best(column: int, exclude: set[int]) -> list[int]:
        pool = [i for i in usable if i not in exclude] or usable
        return [max(pool, key=lambda i: scores[i][column])]

    background, objective = by_role("background"), by_role("objective")
    # The problem is stated before the paper turns to its own work; a "background" sentence after the first
    # method or result sentence is usually a misread result, so it is only a last resort.
    turn = min([i for i in usable if roles[i] in ("method", "result")], default=len(sentences))
    background = [i for i in background if i < turn] or background
    gaps = [i for i in background if _GAP.search(sentences[i])]
    problem = ([gaps[-1]] if gaps else background[-1:]) + [
        i for i in objective[:1] if not _CONTRIBUTION.search(sentences[i])
    ]
    problem = sorted(set(problem)) or best(0, set())
    method = [i for i in by_role("method") if i not in problem][:3]
    method = method or [i for i in objective if _CONTRIBUTION.search(sentences[i])][:1]
    method = method or best(2, set(problem))
    results = by_role("result")[:6] or best(3, set(problem) | set(method))
    contribution = [i for i in objective + method if _CONTRIBUTION.search(sentences[i])]
    tldr = sorted(contribution)[:1] or objective[:1] or method[:1]
    return {"tldr": tldr, "problem": problem, "method": method, "results": results}


def get_engine(settings: Settings) -> Engine:
    """The engine a model name asks for: 'embedded', or any litellm model (imports litellm lazily)."""
    if settings.model == EMBEDDED:
        return EmbeddedEngine()
    from pipeline.llm import LLMEngine

    return LLMEngine(settings)

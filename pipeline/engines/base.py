"""What every engine is: a paper in, a validated summary with evidence and provenance out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline.schema import Evidence, Paper, Provenance, Summary


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

    def estimate(self, paper: Paper) -> tuple[int, int, float]:
        """Input tokens, output tokens and cost (USD) one paper is expected to take; nothing is sent."""
        ...


def grounding_context(paper: Paper) -> dict[str, Any]:
    """What validators check a summary against: the abstract, and all text a link may come from."""
    meta_links = " ".join(link.url for link in paper.links)
    return {"abstract": paper.abstract, "text": f"{paper.text}\n{meta_links}"}

"""How the LLM validators treat human and wrong summaries on a SciTLDR file (``summarize eval --grounding``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.evaluate.data import TldrPaper, load_tldr


def _changed_number(sentence: str, stated: set[str]) -> str | None:
    """``sentence`` with its first number changed to one the abstract does not state (None: no number)."""
    import re

    from pipeline.claims import numbers_in

    match = re.search(r"(?<![\w.])\d+(?:\.\d+)?", sentence)
    if not match:
        return None
    raw = match.group(0)
    for step in range(1, 50):
        if "." in raw:
            head, tail = raw.split(".")
            candidate = f"{head}.{(int(tail) + step) % 10 ** len(tail):0{len(tail)}d}"
        else:
            candidate = str(int(raw) + step)
        if not numbers_in(candidate) & stated:
            return sentence[: match.start()] + candidate + sentence[match.end() :]
    return None


def evaluate_grounding(path: Path, *, limit: int | None = None, seed: int = 0) -> dict[str, Any]:
    """How the LLM validators treat human and wrong summaries on a SciTLDR file (``summarize eval --grounding``).

    Refused: the author's TLDR (first target) and the reviewer-derived ones (the others) as a tldr. Accepted:
    another paper's author TLDR, and a result sentence of the abstract with one number changed.
    """
    import random

    from pydantic import ValidationError

    from pipeline.claims import numbers_in
    from pipeline.schema import Summary

    def accepted(paper: TldrPaper, **fields: Any) -> bool:
        abstract = " ".join(paper.sentences)
        values: dict[str, Any] = {
            "tldr": paper.sentences[0],
            "problem": paper.sentences[0],
            "method": paper.sentences[0],
        }
        values["results"] = [paper.sentences[-1]]
        values.update(fields)
        try:
            Summary.model_validate(values, context={"abstract": abstract, "text": f"{paper.title}\n{abstract}"})
        except ValidationError:
            return False
        return True

    data = load_tldr(path)[:limit]
    rng = random.Random(seed)
    counts = {"author": [0, 0], "reviewer": [0, 0], "other_paper": [0, 0], "changed_number": [0, 0]}
    for k, paper in enumerate(data):
        counts["author"][0] += not accepted(paper, tldr=paper.targets[0])
        counts["author"][1] += 1
        for target in paper.targets[1:]:
            counts["reviewer"][0] += not accepted(paper, tldr=target)
            counts["reviewer"][1] += 1
        if len(data) > 1:
            other = data[(k + 1 + rng.randrange(len(data) - 1)) % len(data)]
            counts["other_paper"][0] += accepted(paper, tldr=other.targets[0])
            counts["other_paper"][1] += 1
        stated = numbers_in(" ".join(paper.sentences))
        for sentence in paper.sentences:
            changed = _changed_number(sentence, stated)
            if changed:
                counts["changed_number"][0] += accepted(paper, results=[changed])
                counts["changed_number"][1] += 1
                break
    rates = {name: round(hit / total, 4) if total else None for name, (hit, total) in counts.items()}
    return {
        "papers": len(data),
        "author_refused": rates["author"],
        "reviewer_refused": rates["reviewer"],
        "other_paper_accepted": rates["other_paper"],
        "changed_number_accepted": rates["changed_number"],
        "counts": {name: total for name, (_, total) in counts.items()},
    }

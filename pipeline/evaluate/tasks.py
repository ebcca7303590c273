"""Task chips against an LLM's field summaries (data/modern/): ``python -m pipeline.evaluate.tasks FILE``.

There are no gold task labels; what can be counted is where a chip's claim comes from. A chip is *in the title*
when the title names the task; else *echoed* when the LLM's own tldr, problem, method or result names every word
of it (the LLM read the same abstract and called the paper's work by that name); else *not echoed*. Echoed is a
rough stand-in for right (the LLM may say "reinforcement learning" where the abstract does), not echoed for
doubtful. Reported for the chips the engine gives (`find_tasks`) and for every vocabulary name found anywhere in
the abstract (the rule before issue 37), so that a change to the rules shows what it gained and lost.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.evaluate.data import LlmPaper, load_llm_fields


def _words(text: str) -> set[str]:
    return {w.removesuffix("s") for w in re.findall(r"[a-z0-9]+", text.lower())}


def _kind(name: str, paper: LlmPaper) -> str:
    from pipeline.extractive import extract

    if name in extract.find_tasks("", paper.title):
        return "title"
    return "echoed" if _words(name) <= _words(" ".join(paper.fields.values())) else "not_echoed"


def count(papers: list[LlmPaper], chips: Callable[[LlmPaper, list[str]], list[str]]) -> dict[str, Any]:
    from pipeline.extractive.roles import ROLES, default_model
    from pipeline.extractive.text import split_sentences

    model = default_model()
    out: dict[str, Any] = {"papers": len(papers), "with_chips": 0, "title": 0, "echoed": 0, "not_echoed": 0}
    for paper in papers:
        ids, _ = model.analyse(split_sentences(paper.abstract)[:400])
        found = chips(paper, [ROLES[i] for i in ids])
        out["with_chips"] += bool(found)
        for name in found:
            out[_kind(name, paper)] += 1
    return out


def evaluate(path: Path) -> dict[str, Any]:
    from pipeline.extractive import extract

    papers = load_llm_fields(path)
    return {
        "anywhere_in_abstract": count(papers, lambda p, roles: extract._TASK_VOCABULARY.find(p.abstract)),
        "chips": count(papers, lambda p, roles: extract.find_tasks(p.abstract, p.title, roles)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.evaluate.tasks", description=__doc__)
    parser.add_argument("path", type=Path)
    print(json.dumps(evaluate(parser.parse_args(argv).path), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fields against an LLM's field summaries (the data/modern/ format): each cell's ROUGE-1 beside the extractive
oracle's, for the whole file and, with ``by="categories"``, for each field group (cs, astro, math, …)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.evaluate.data import LLM_FIELDS, field_group, llm_field_files, load_llm_fields
from pipeline.evaluate.engine import failure_reason, tally
from pipeline.evaluate.scoring import Rouge1

BY = ("categories",)


class _Tally:
    """The sums one table is made of: our ROUGE-1 and the oracle's per cell, empties, agreement, failures."""

    def __init__(self) -> None:
        self.papers = self.agree = self.failures = 0
        self.ours = dict.fromkeys(LLM_FIELDS, 0.0)
        self.oracle = dict.fromkeys(LLM_FIELDS, 0.0)
        self.empty = dict.fromkeys(LLM_FIELDS, 0)
        self.reasons: list[str] = []

    def table(self) -> dict[str, Any]:
        n = self.papers or 1
        fields = {
            name: {
                "rouge1": round(100 * self.ours[name] / n, 2),
                "oracle": round(100 * self.oracle[name] / n, 2),
                "ratio": round(self.ours[name] / self.oracle[name], 4) if self.oracle[name] else 0.0,
                "empty": round(self.empty[name] / n, 4),
                # The cell's precision, as it were: its mean ROUGE-1 where it is shown (an empty cell is no error).
                "shown": round(100 * self.ours[name] / max(self.papers - self.empty[name], 1), 2),
            }
            for name in LLM_FIELDS
        }
        return {
            "papers": self.papers,
            "failed": self.failures,
            "failure_reasons": tally(self.reasons),
            "fields": fields,
            "key_result_agreement": round(self.agree / n, 4),
            "results_empty": fields["key_result"]["empty"],
        }


def _score_paper(
    tallies: list[_Tally], rouge: Rouge1, sentences: list[str], fields: dict[str, str], summary: Any, error: str
) -> None:
    """Adds one paper to each of ``tallies`` (the whole file's and its group's). ``summary`` None: it failed."""
    best = {name: rouge.closest(sentences, target) for name, target in fields.items()}
    cells = {}
    if summary is not None:
        cells = {
            "tldr": summary.tldr,
            "problem": summary.problem,
            "method": summary.method,
            "key_result": summary.results[0] if summary.results else "",
        }
    scores = {name: rouge.f1(cell, fields[name]) for name, cell in cells.items() if cell.strip()}
    agrees = bool(
        cells.get("key_result", "").strip()
        and best["key_result"][0] >= 0
        and rouge.closest(sentences, cells["key_result"])[0] == best["key_result"][0]
    )
    for t in tallies:
        t.papers += 1
        t.agree += agrees
        if summary is None:
            t.failures += 1
            t.reasons.append(error)
        for name in LLM_FIELDS:
            t.oracle[name] += best[name][1]
            if name in scores:
                t.ours[name] += scores[name]
            else:
                t.empty[name] += 1


def evaluate_llm_fields(
    path: Path, summarize: Callable[[str, str], Any], *, limit: int | None = None, by: str | None = None
) -> dict[str, Any]:
    """Each cell's ROUGE-1 F1 (×100, stemming) against the LLM's field, beside the extractive oracle (the one
    abstract sentence closest to that field) and their ratio; how often the key result is the sentence closest to
    the LLM's result (``key_result_agreement``); how often each cell is empty and its mean ROUGE-1 where it is
    not (``shown``). An empty cell scores 0.

    ``path`` is a file or a folder of ``*dev.jsonl`` files (data/sciences/); ``limit`` caps each file. With
    ``by="categories"`` the same table comes for each field group of the papers' primary category (``groups``).
    The key result's sentence is found by text (the abstract sentence closest to the cell), so any engine's output
    can be scored; a failed paper scores 0 everywhere and counts as empty.
    """
    from pipeline.extractive.text import split_sentences

    if by is not None and by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}")
    rouge = Rouge1()
    whole, groups = _Tally(), {}
    started = time.perf_counter()
    for file in llm_field_files(path):
        for paper in load_llm_fields(file)[:limit]:
            tallies = [whole]
            if by:
                tallies.append(groups.setdefault(field_group(paper.categories), _Tally()))
            summary, error = None, ""
            try:
                summary = summarize(paper.title, paper.abstract).summary
            except Exception as exc:  # a failed paper scores nothing (counted)
                error = failure_reason(exc)
            _score_paper(tallies, rouge, split_sentences(paper.abstract), paper.fields, summary, error)
    result = whole.table()
    if by:
        result["groups"] = {name: groups[name].table() for name in sorted(groups)}
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result

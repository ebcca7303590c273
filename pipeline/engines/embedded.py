"""The embedded engine: extractive summaries from sentence-role probabilities, local, no key, no network.

The sentence-role model of `pipeline.roles` gives each sentence of the abstract a probability for each role; the
fields take the sentences most probable for them (`_pick`), the tldr is the sentence `pipeline.tldr`'s selector
ranks first, and `pipeline.tldr.compress` shortens what is shown without adding a word. Never imports litellm.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline import extract, links
from pipeline.engines.base import EngineOutput, grounding_context
from pipeline.roles import ROLES, default_model, model_hash
from pipeline.schema import Evidence, Paper, Provenance, Summary
from pipeline.text import split_sentences
from pipeline.tldr import CONTRIBUTION as _CONTRIBUTION
from pipeline.tldr import compress, default_selector, tldr_text

EMBEDDED = "embedded"
MAX_SENTENCES = 400  # bounded work on pathological (1 MB) abstracts
FIELDS_VERSION = 6
_GAP = re.compile(
    r"\b(however|but|remain|remains|challenge|challenging|lack|lacks|limited|limitation|difficult|problem|"
    r"issue|fail|fails|struggle|costly|expensive|unclear|open question|underexplored|bottleneck)\b",
    re.IGNORECASE,
)
_LINK_ONLY = re.compile(r"(https?://|github\.com|available at|code is|project page)", re.IGNORECASE)
# Publisher and funding boilerplate that abstracts scraped from the web carry: never a field's sentence.
_BOILERPLATE = re.compile(
    r"(©|\bcopyright (\(c\)|\d{4})|all rights reserved|^\W*(keywords?|key words|index terms)\b|"
    r"\bcorresponding author\b|"
    r"\b(funded|sponsored) (in part )?by\b|\bsupported (in part )?by (the |a )?(grant|contract|national|nsf|"
    r"nserc|darpa|european|research (grant|council))|^\W*acknowledge?ments?\b)",
    re.IGNORECASE,
)
# Substrings one of which each pattern needs: a plain `in` test skips the regex for most sentences (the regexes
# cost tens of microseconds a sentence, a tenth of the engine's time).
_BOILERPLATE_HINTS = (
    "©",
    "copyright",
    "rights reserved",
    "key",
    "index terms",
    "corresponding",
    "funded",
    "sponsored",
    "supported",
    "acknowledg",
)
_RELEASE_HINTS = ("releas", "open", "availab", "make", "provide", "share", "offer")


def _matches(pattern: re.Pattern[str], hints: tuple[str, ...], text: str) -> bool:
    low = text.lower()
    return any(h in low for h in hints) and pattern.search(text) is not None


class EmbeddedEngine:
    """Extractive summaries from predicted sentence roles. Deterministic, local, about a millisecond a paper."""

    name = EMBEDDED
    is_async = False

    def __init__(self) -> None:
        self.roles_model = default_model()
        self.selector = default_selector()
        self.model = "roles-crf-v2"
        self.prompt_hash = model_hash()

    def params(self) -> dict[str, Any]:
        # FIELDS_VERSION is part of every cache key: bump it when field selection or compression changes.
        return {"max_sentences": MAX_SENTENCES, "fields_version": FIELDS_VERSION}

    def estimate(self, paper: Paper) -> tuple[int, int, float]:
        return 0, 0, 0.0

    def roles(self, sentences: list[str]) -> list[str]:
        return self.roles_model.predict(sentences)

    def summarize(self, paper: Paper) -> EngineOutput:
        sentences = split_sentences(paper.abstract)[:MAX_SENTENCES]
        role_ids, probs = self.roles_model.analyse(sentences)
        roles = [ROLES[i] for i in role_ids]
        picks = _pick(sentences, probs)
        picks["tldr"] = [self.selector.select(paper.title, sentences, probs)]
        summary = Summary.model_validate(
            {
                "tldr": _clip(tldr_text(sentences[picks["tldr"][0]]), 400),
                "problem": _clip(" ".join(compress(sentences[i]) for i in picks["problem"]), 1500),
                "method": _clip(" ".join(compress(sentences[i]) for i in picks["method"]), 1500),
                "results": [_clip(sentences[i], 700) for i in picks["results"]],
                "links": links.merge(paper.links, links.extract_links(paper.text)),
                "tasks": extract.find_tasks(paper.abstract),
                "datasets": extract.find_datasets(paper.abstract),
                "metrics": extract.find_metrics(paper.abstract),
            },
            context={**grounding_context(paper), "require_results": False},
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


_COMPARISON = re.compile(
    r"(\d|%|\b(outperform\w*|surpass\w*|improv\w*|better|faster|higher|lower|reduc\w*|increas\w*|gain\w*|"
    r"exceed\w*|beat\w*|state-of-the-art|sota|compar\w*|than|up to)\b)",
    re.IGNORECASE,
)
# A finding stated as a comparison with a number ("improves FID from 18.65 to 1.80", "outperforms X by 4%").
_STRONG_RESULT = re.compile(
    r"\b(outperform\w*|surpass\w*|match\w*|improv\w*|achiev\w*|reach\w*|obtain\w*|attain\w*|reduc\w*|boost\w*|"
    r"exceed\w*|beat\w*|gain\w*|increas\w*|decreas\w*|speed\w*|state-of-the-art|sota)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
# A headline result: a finding quantified as a comparison ("improves FID from 18.65 to 1.73", "by 4.2 points",
# "21x faster", "an FID of 21.60, compared to ... 31.97"). Years, numbers inside parentheses and numbers that are
# part of a name ("3D", "ResNet-50", "1)") do not count.
_AMOUNT = r"\d+(?:[.,]\d+)*"
_QUANTITY = re.compile(rf"(?<![\w.-]){_AMOUNT}(?![\w)-])")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_ASIDE = re.compile(r"\([^()]*\)")
_BY_AMOUNT = re.compile(
    rf"\bby (?:up to |over |about |around |nearly |almost )?{_AMOUNT} ?(?:%|x\b|×|points?\b|pp\b|percent)|"
    rf"(?<![\w.]){_AMOUNT} ?(?:x|×) (?:faster|speed|smaller|fewer|less|more|higher|lower|reduction|improvement)|"
    rf"\bfrom {_AMOUNT} ?%? (?:down |up )?to {_AMOUNT}",
    re.IGNORECASE,
)
_COMPARED = re.compile(r"\b(than|compared (?:to|with)|versus|vs\.?|outperform\w*|surpass\w*)\b", re.IGNORECASE)
_OUTPERFORM = re.compile(r"\b(outperform\w*|surpass\w*|beat\w*|state-of-the-art|sota)\b", re.IGNORECASE)
_PROPOSAL = re.compile(
    r"\b(we|this (paper|work|study)|our (work|paper|approach))\b.{0,40}?\b(propose|introduce|present|develop|"
    r"design|build|describe)",
    re.IGNORECASE,
)
_RELEASE = re.compile(
    r"\b(we (have |will )?(also )?(publicly )?(release|released|open-source|open-sourced|make)|"
    r"we (also )?(provide|share|offer) (an? |our |the )?(open[- ]source|publicly available|code|source code)|"
    r"(code|codes|models?|data|datasets?|weights|checkpoints|tools?|implementation)\b[^.;]{0,120}?"
    r"\b(is|are|will be|have been|has been) (publicly |freely |openly |made )*(released|available|open[- ]sourced?))\b",
    re.IGNORECASE,
)
BACKGROUND, OBJECTIVE, METHOD, RESULT = (ROLES.index(r) for r in ("background", "objective", "method", "result"))
RESULT_FLOOR = 0.5
METHOD_FLOOR = 0.5
PROBLEM_FLOOR = 0.5
MAX_METHOD = 2
PROBLEM_BACKGROUND = 2
STRONG_BONUS = 0.3
HEADLINE_BONUS = 0.3
MAX_RESULTS = 6


def _headline(text: str) -> bool:
    """A finding stated as a quantified comparison. The role model, trained on older CS abstracts, often reads a
    modern abstract's early headline sentence ("On ImageNet, VAR improves FID from 18.65 to 1.73") as background."""
    plain = _YEAR.sub("year", _ASIDE.sub("", text))
    if _BY_AMOUNT.search(plain):
        return True
    return len(_QUANTITY.findall(plain)) >= 2 and bool(_COMPARED.search(plain))


def _pick(sentences: list[str], probs: Any) -> dict[str, list[int]]:
    """Sentence indices for each field from the role marginals ``probs`` (n, 5).

    Each sentence serves one field (the tldr aside): results first (the sentences most probably results, a
    stated number or comparison ranking higher), then the method (at most two), then the problem (the gap
    stated before the paper turns to its own work, plus an objective that is not the contribution itself).
    A field with no sentence over its floor takes the most probable remaining one.
    """
    if not sentences:
        raise ValueError("abstract has no sentences")
    usable = [
        i
        for i, s in enumerate(sentences)
        if not (_LINK_ONLY.search(s) and len(s) < 160) and not _matches(_BOILERPLATE, _BOILERPLATE_HINTS, s)
    ] or [0]
    taken: set[int] = set()
    # Each cue once per sentence (regex searches dominate the cost of picking otherwise).
    contribution = {i for i in usable if _CONTRIBUTION.search(sentences[i])}
    scores = {}
    headline: set[int] = set()
    for i in usable:
        text = sentences[i]
        strong = bool(_NUMBER.search(text) and _STRONG_RESULT.search(text))
        scores[i] = float(probs[i][RESULT]) + (STRONG_BONUS if strong else 0.0)
        if strong and _headline(text):
            scores[i] += HEADLINE_BONUS
            headline.add(i)

    def top(column: int, floor: float, limit: int, key: Any = None) -> list[int]:
        pool = [i for i in usable if i not in taken]
        over = [i for i in pool if probs[i][column] >= floor]
        chosen = sorted(over, key=key or (lambda i: -probs[i][column]))[:limit]
        if not chosen and pool:
            chosen = [max(pool, key=lambda i: probs[i][column])]
        taken.update(chosen)
        return chosen

    pool = [
        i
        for i in usable
        if scores[i] >= RESULT_FLOOR
        and not _matches(_RELEASE, _RELEASE_HINTS, _ASIDE.sub("", sentences[i]))
        and not _PROPOSAL.search(sentences[i])
    ]
    importance = {i: scores[i] + (0.1 if _COMPARISON.search(sentences[i]) else 0.0) for i in pool}
    # Headline findings first (a quantified comparison), then the rest by importance; may be empty: no finding.
    results = sorted(pool, key=lambda i: (i not in headline, -importance[i]))[:MAX_RESULTS]
    taken.update(results)
    # A sentence that reports a comparison is a finding, never the method.
    taken.update(i for i in usable if scores[i] >= 1.0 or _OUTPERFORM.search(sentences[i]))
    method = sorted(top(METHOD, METHOD_FLOOR, MAX_METHOD))
    taken.difference_update(i for i in usable if i not in results + method)
    if not method:  # every sentence is a finding: the most method-like of them still says how
        method = [max(usable, key=lambda i: probs[i][METHOD])]
        taken.add(method[0])
    # The problem: the paper states it before it turns to its own method and results.
    turn = min(method + results, default=len(sentences))
    context = [i for i in usable if i not in taken and i < turn and i not in contribution]
    background = [i for i in context if probs[i][BACKGROUND] >= PROBLEM_FLOOR]
    gaps = [i for i in background if _GAP.search(sentences[i])]
    # The gap, and the background sentence that leads into it.
    anchor = gaps[-1] if gaps else (background[-1] if background else None)
    problem = [i for i in background if anchor is not None and i <= anchor][-PROBLEM_BACKGROUND:]
    objective = [i for i in context if probs[i][OBJECTIVE] >= PROBLEM_FLOOR]
    problem = sorted(set(problem + objective[:1]))
    if not problem:
        # Nothing stated before the turn: a gap stated later, else what the paper sets out to do (its contribution
        # sentence, which annotators label objective), before any other sentence posing as the problem.
        rest = [i for i in usable if i not in taken]
        late = [i for i in rest if i not in contribution and probs[i][BACKGROUND] >= PROBLEM_FLOOR]
        aims = [i for i in sorted(contribution) if i not in results]
        if late:
            problem = [next((i for i in late if _GAP.search(sentences[i])), late[0])]
        elif aims:
            problem = aims[:1]
        else:
            pool = [i for i in rest if i not in contribution] or rest or usable
            problem = [max(pool, key=lambda i: probs[i][BACKGROUND] + probs[i][OBJECTIVE])]
    return {"problem": problem, "method": method, "results": results}

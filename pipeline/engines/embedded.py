"""The embedded engine: extractive summaries from sentence-role probabilities, local, no key, no network.

The sentence-role model of `pipeline.extractive.roles` gives each sentence of the abstract a probability for each role; the
fields take the sentences most probable for them (`_pick`), the tldr is the sentence `pipeline.extractive.tldr`'s selector
ranks first, and `pipeline.extractive.tldr.compress` shortens what is shown without adding a word. Never imports litellm.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline import links
from pipeline.engines.base import EngineOutput, grounding_context
from pipeline.extractive import extract
from pipeline.extractive.fields import FieldSelectors, default_selectors, sentence_cues
from pipeline.extractive.fields import features as field_features
from pipeline.extractive.roles import ROLES, default_model, model_hash, sentence_features
from pipeline.extractive.scores import extract_scores
from pipeline.extractive.scores import model_hash as scores_hash
from pipeline.extractive.text import split_sentences
from pipeline.extractive.tldr import CONTRIBUTION as _CONTRIBUTION
from pipeline.extractive.tldr import compress, default_selector, tldr_text
from pipeline.grounding import plain as plain_notation
from pipeline.schema import Evidence, Paper, Provenance, Summary

EMBEDDED = "embedded"
MAX_SENTENCES = 400  # bounded work on pathological (1 MB) abstracts
FIELDS_VERSION = 9
_GAP = re.compile(
    r"\b(however|but|remain|remains|challenge|challenging|lack|lacks|limited|limitation|difficult|problem|"
    r"issue|fail|fails|struggle|costly|expensive|unclear|open question|underexplored|bottleneck|unknown|"
    r"poorly understood|not (?:yet |well |fully )?understood|elusive|debated|puzzl\w*|tension|discrepanc\w*|"
    r"anomal\w*|yet to be|little is known|unexplored|unresolved|open problem|whether)\b|\?",
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
        self.fields = default_selectors()
        self.model = "roles-crf-v2"
        self.prompt_hash = model_hash()

    def params(self) -> dict[str, Any]:
        # FIELDS_VERSION is part of every cache key: bump it when field selection or compression changes.
        return {"max_sentences": MAX_SENTENCES, "fields_version": FIELDS_VERSION, "scores": scores_hash()}

    def estimate(self, paper: Paper) -> tuple[int, int, float]:
        return 0, 0, 0.0

    def roles(self, sentences: list[str]) -> list[str]:
        return self.roles_model.predict(sentences)

    def summarize(self, paper: Paper) -> EngineOutput:
        sentences = split_sentences(paper.abstract)[:MAX_SENTENCES]
        feats = sentence_features(sentences)
        role_ids, probs = self.roles_model.analyse(sentences, feats)
        roles = [ROLES[i] for i in role_ids]
        tldr_scores = self.selector.scores(paper.title, sentences, probs)
        picks = _pick(sentences, probs, tldr_scores, self.fields, paper.title, feats)
        summary = Summary.model_validate(
            {
                "tldr": _clip(tldr_text(sentences[picks["tldr"][0]]), 400),
                "problem": _clip(" ".join(compress(sentences[i]) for i in picks["problem"]), 1500),
                "method": _clip(" ".join(compress(sentences[i]) for i in picks["method"]), 1500),
                "results": [_clip(sentences[i], 700) for i in picks["results"]],
                "links": links.merge(paper.links, links.extract_links(paper.text)),
                "tasks": extract.find_tasks(paper.abstract, paper.title, roles),
                "datasets": extract.find_datasets(paper.abstract),
                "metrics": extract.find_metrics(paper.abstract),
                "scores": extract_scores(paper.title, sentences, roles=probs),
            },
            context={**grounding_context(paper), "require_results": False, "require_problem": False, "sentences": sentences},
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
STRONG_BONUS = 0.3
HEADLINE_BONUS = 0.3
MAX_RESULTS = 6
# The method: the method selector's score plus this much of the role model's method probability. 0 / 2 on dev:
# CSAbstruct method precision 0.547 / 0.587, modern method of oracle 0.872 / 0.863, sciences 0.843 / 0.831.
METHOD_PRIOR = 2.0


def _headline(text: str) -> bool:
    """A finding stated as a quantified comparison. The role model, trained on older CS abstracts, often reads a
    modern abstract's early headline sentence ("On ImageNet, VAR improves FID from 18.65 to 1.73") as background."""
    plain = _YEAR.sub("year", _ASIDE.sub("", text))
    return _headline_plain(plain, len(_QUANTITY.findall(plain)))


def _headline_plain(plain: str, amounts: int) -> bool:
    return bool(_BY_AMOUNT.search(plain)) or (amounts >= 2 and bool(_COMPARED.search(plain)))


_ANAPHOR = re.compile(
    r"^\W*(?:(?:however|but|yet|still|unfortunately|nevertheless|nonetheless|in practice),?\s+)?"
    r"(?:this|these|those|such|it|they|its|their|the former|the latter|both|neither|each of them)\b",
    re.IGNORECASE,
)
# The key result: the key-result selector's score plus this much of the role model's result score (probability
# and number bonuses). 0 / 1 / 2 on modern dev, key result of oracle 0.885 / 0.868 / 0.861, CSAbstruct dev
# key-result precision 0.591 / 0.606 / 0.640: 1 keeps the LLM's key sentence for 0.70 of modern papers.
KEY_PRIOR = 1.0
# An outcome word alone ("achieve", "improves", "leads to") reports an outcome where the role model gives the
# sentence at least this result probability. 0 / 0.05 / 0.1 / 0.2: CSAbstruct dev key-result precision 0.634 /
# 0.659 / 0.673 / 0.680 (shown for 91 / 87 / 86 / 86 %); modern dev agreement 0.705 throughout, results empty
# 6 / 7 / 7 / 8 of 217 (0.1 empties a dataset paper that states no finding, 0.2 also "Tuning Learning Rates",
# which states one).
OUTCOME_FLOOR = 0.1
# The paper is a survey, a review or a position paper (its own words, not "we review prior work").
_SURVEY = re.compile(
    r"\b(?:(?:this|our|the present) (?:survey|review|position paper|overview)|(?:we|this (?:paper|article)) "
    r"(?:survey|surveys|review|reviews)\b(?! of (?:our|the proposed))|(?:systematic|comprehensive|exhaustive|"
    r"extensive|structured) (?:literature )?(?:survey|review)|literature review|position paper|we argue that)",
    re.IGNORECASE,
)


def sentence_facts(sentences: list[str]) -> tuple[list[bool], list[bool], list[int], list[dict[str, int]]]:
    """Per sentence, each computed once: a number with a result verb (strong), a quantified comparison (a headline
    finding), how many amounts it states (years, asides and names aside), its cue counts (`fields.sentence_cues`)."""
    strong, headline, quantities, cues = [], [], [], []
    for s in map(plain_notation, sentences):  # TeX math and unicode: "$e\\sim0.2$", "10⁻³" state amounts too
        cues.append(sentence_cues(s))
        numbered = _NUMBER.search(s) is not None
        plain = _YEAR.sub("year", _ASIDE.sub("", s)) if numbered else s
        amounts = len(_QUANTITY.findall(plain)) if numbered else 0
        is_strong = amounts > 0 and bool(_STRONG_RESULT.search(s))
        strong.append(is_strong)
        headline.append(is_strong and _headline_plain(plain, amounts))
        quantities.append(amounts)
    return strong, headline, quantities, cues


def _pick(
    sentences: list[str],
    probs: Any,
    tldr_scores: Any = None,
    selectors: FieldSelectors | None = None,
    title: str = "",
    feats: list[list[str]] | None = None,
) -> dict[str, list[int]]:
    """Sentence indices for each field from the role marginals ``probs`` (n, 5) and the trained field selectors.

    Each sentence serves one field. Results first: when some sentence reports an outcome, the key result is the
    one the key-result selector rates best (with `KEY_PRIOR` of the role model's result score) among those and the
    probable findings; the others follow in the selector's order; none reports one (a survey): no results. Then
    the method: the sentence the method selector rates best and a second probable method sentence, never a
    finding nor a release note. Then the problem: the gap (a background sentence stated before the paper turns to
    its own work, preferring one that states a difficulty), with the sentence before it only when the gap points
    back to it ("However, these methods ..."), plus an objective that is not the tldr's sentence. With
    ``tldr_scores`` (the tldr selector's, one per sentence) the tldr is the best-scored sentence; the problem then
    never holds it, and a method cell that would repeat it alone gets its next method sentence.
    """
    if not sentences:
        raise ValueError("abstract has no sentences")
    selectors = selectors or default_selectors()
    usable = [
        i
        for i, s in enumerate(sentences)
        if not (_LINK_ONLY.search(s) and len(s) < 160) and not _matches(_BOILERPLATE, _BOILERPLATE_HINTS, s)
    ] or [0]
    strong, headline, quantities, cues = sentence_facts(sentences)
    if feats is None and selectors.lexicon:
        feats = sentence_features(sentences)
    rated = selectors.scores(field_features(sentences, probs, headline, cues, quantities, title), feats)
    release = {i for i in usable if _matches(_RELEASE, _RELEASE_HINTS, _ASIDE.sub("", sentences[i]))}
    scores = {i: float(probs[i][RESULT]) + STRONG_BONUS * strong[i] + HEADLINE_BONUS * headline[i] for i in usable}
    probable = [
        i for i in usable if scores[i] >= RESULT_FLOOR and i not in release and not _PROPOSAL.search(sentences[i])
    ]
    # A sentence that reports an outcome can be the key result even when the role model doubts it is one. A
    # survey's "AI-generated data exhibit remarkable advantages" or closing "open problems and directions" is no
    # finding, however sure the role model is: there only a stated number or comparison is. An outcome word alone
    # ("they lead to confusion", "used successfully in many areas") reports one only where the role model does not
    # rule out a result (`OUTCOME_FLOOR`): in the context it is the problem's, not a finding.
    reported = {
        i
        for i in usable
        if i not in release
        and (
            headline[i]
            or cues[i]["finding"]
            or (cues[i]["outcome"] and (quantities[i] or probs[i][RESULT] >= OUTCOME_FLOOR))
            or cues[i]["claim"]
            or (cues[i]["measure"] and quantities[i])
        )
    }
    if any(cues[i]["survey"] and _SURVEY.search(sentences[i]) for i in usable):  # only a number or a comparison
        reported = {i for i in reported if headline[i] or quantities[i] or cues[i]["finding"]}
        probable = [i for i in probable if i in reported]
    results: list[int] = []
    if reported or probable:
        key = max(sorted(reported.union(probable)), key=lambda i: rated["key_result"][i] + KEY_PRIOR * scores[i])
        rest = sorted((i for i in probable if i != key), key=lambda i: -rated["key_result"][i])
        results = [key, *rest][:MAX_RESULTS]
    taken = set(results)
    # A finding is never the method: a result, a stated comparison, a headline number.
    # A finding stated without a comparison ("A classifier can predict the seed with over 99.9% accuracy", "VAR
    # models exhibit clear power-law scaling laws") is one too.
    findings = {
        i
        for i in usable
        if scores[i] >= 1.0 or headline[i] or cues[i]["finding"] or (quantities[i] and cues[i]["outcome"])
    }
    taken.update(release)  # a release note is neither the method nor the problem
    candidates = [i for i in usable if i not in taken and i not in findings]
    if not candidates:  # every sentence is a finding: the most method-like other one still says how
        candidates = [i for i in usable if i not in results] or usable
    ranked = sorted(candidates, key=lambda i: -(rated["method"][i] + METHOD_PRIOR * probs[i][METHOD]))
    method = ranked[:1] + [i for i in ranked[1:MAX_METHOD] if probs[i][METHOD] >= METHOD_FLOOR]
    tldr = None if tldr_scores is None else max(usable, key=lambda i: tldr_scores[i])
    if method == [tldr] and len(ranked) > 1:
        # The method cell would repeat the tldr: it says more with the next method sentence (dropping the tldr's
        # sentence instead costs 0.03 of oracle on modern dev: it is often the best statement of the method), but
        # not with the context the problem states ("Retrieval is slow.").
        more = [i for i in ranked[1:] if probs[i][BACKGROUND] < PROBLEM_FLOOR]
        method = ranked[:1] + more[:1]
    method.sort()
    taken.update(method)
    problem = _problem(sentences, probs, usable, taken, method + results, tldr)[0]
    picks = {"problem": problem, "method": method, "results": results}
    if tldr is not None:
        if tldr in problem and len(usable) > 1:
            # The tldr and the problem want the same sentence (an abstract that opens with its contribution): the
            # tldr keeps it, the problem takes the next gap.
            other, stated = _problem(sentences, probs, usable, taken | {tldr}, method + results, tldr)
            if not stated:  # no other gap before the turn: the sentence the problem selector rates best, a
                # finding only when nothing else is left (moving the tldr instead costs 1.0 ROUGE-1 on SciTLDR dev)
                free = [i for i in usable if i not in taken and i != tldr]
                rest = [i for i in free if i not in findings] or free or [i for i in usable if i != tldr]
                other = [max(rest, key=lambda i: rated["problem"][i])]
            picks["problem"] = other
        picks["tldr"] = [tldr]
    picks["problem"] = _confident(sentences, probs, picks, findings)
    return picks


def _confident(sentences: list[str], probs: Any, picks: dict[str, list[int]], findings: set[int]) -> list[int]:
    """The problem cell as shown: never a sentence another cell holds, and only sentences that state a gap or a
    question, or context (background or objective) that is neither a finding nor the paper's contribution. When
    none is left the cell is empty and the page says "not stated": a problem cell holding the method, a finding
    or a licence fact misleads more than an empty one."""
    held = {i for name, ids in picks.items() if name != "problem" for i in ids}
    return [
        i
        for i in picks["problem"]
        if i not in held
        and (
            _GAP.search(sentences[i]) is not None
            or (
                probs[i][BACKGROUND] + probs[i][OBJECTIVE] >= PROBLEM_FLOOR
                and i not in findings
                and not _CONTRIBUTION.search(sentences[i])
            )
        )
    ]


def _problem(
    sentences: list[str], probs: Any, usable: list[int], taken: set[int], turned: list[int], tldr: int | None
) -> tuple[list[int], bool]:
    """The gap the paper addresses, and whether it is stated before the paper turns to its own work (``turned``:
    its method and results) rather than found later. An objective joins the gap unless it is the tldr's
    sentence (which states what the paper sets out to do)."""
    contribution = {i for i in usable if _CONTRIBUTION.search(sentences[i])}
    turn = min(turned, default=len(sentences))
    context = [i for i in usable if i not in taken and i < turn and i not in contribution]
    background = [i for i in context if probs[i][BACKGROUND] >= PROBLEM_FLOOR]
    gaps = [i for i in background if _GAP.search(sentences[i])]
    anchor = gaps[-1] if gaps else (background[-1] if background else None)
    problem = []
    if anchor is not None:
        problem = [anchor]
        # The sentence before only when the gap cannot stand alone ("However, these methods ...").
        if _ANAPHOR.match(sentences[anchor]) and anchor - 1 in background:
            problem.insert(0, anchor - 1)
    objective = [i for i in context if probs[i][OBJECTIVE] >= PROBLEM_FLOOR and i != tldr]
    problem = sorted(set(problem + objective[:1]))
    if problem:
        return problem, True
    # Nothing stated before the turn: a gap stated later, else what the paper sets out to do (its contribution
    # sentence, which annotators label objective), before any other sentence posing as the problem.
    rest = [i for i in usable if i not in taken]
    late = [i for i in rest if i not in contribution and probs[i][BACKGROUND] >= PROBLEM_FLOOR]
    aims = [i for i in sorted(contribution) if i not in taken]
    if late:
        return [next((i for i in late if _GAP.search(sentences[i])), late[0])], False
    if aims:
        return aims[:1], False
    pool = [i for i in rest if i not in contribution] or rest or usable
    return [max(pool, key=lambda i: probs[i][BACKGROUND] + probs[i][OBJECTIVE])], False

"""The names a score is bound to, read from its sentence: the metric, the dataset, whose result, relative to what.

Rules over the plain sentence (`pipeline.quantities.plain`) and the lexicons `pipeline.extractive.scores` loads
(metric and benchmark names learned from the labelled train split, plus a curated list). Each returns "" when
the sentence does not name it: a wrong benchmark is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from pipeline.quantities import Quantity

_ARTICLE = re.compile(
    r"^(?:the|a|an|its|their|our|overall|average|mean|relative|absolute|significant|"
    r"remarkable|substantial|notable|consistent|higher|lower|better|improved|state-of-the-art)\s+",
    re.IGNORECASE,
)
_STOP_TAIL = re.compile(
    r"\s+(?:by|of|on|in|to|and|with|for|at|from|over|across|than|compared|while|score|scores|"
    r"results?|metrics?)$",
    re.IGNORECASE,
)
_CHANGE_VERB = (
    r"(?:improv\w*|increas\w*|reduc\w*|decreas\w*|boost\w*|lower\w*|rais\w*|enhanc\w*|cut\w*|accelerat\w*|"
    r"shrink\w*|lift\w*|elevat\w*|advanc\w*|outperform\w*|surpass\w*|exceed\w*|speed\w* up|drop\w*)"
)
_VERB_BY = re.compile(
    rf"\b{_CHANGE_VERB}\s+(?:the\s+|its\s+|their\s+)?(?P<m>[\w@-]+(?:\s+[\w@-]+){{0,3}}?)\s+by\s+"
    r"(?:up to\s+|over\s+|about\s+|around\s+|nearly\s+|almost\s+|approximately\s+|~)?$",
    re.IGNORECASE,
)
_OF = re.compile(
    r"(?P<m>[\w@-]+(?:\s+[\w@-]+){0,3}?)\s*(?:\sof|\sat|\sas low as|\sas high as|\sreaching|"
    r"\sexceeding|\sabove|\sbelow|=|:)\s+(?:up to\s+|over\s+|about\s+|only\s+|just\s+|nearly\s+|~|around\s+)?$",
    re.IGNORECASE,
)
_AFTER = re.compile(
    r"^\s*(?:(?:improvement|increase|gain|reduction|decrease|drop|boost|enhancement|lower|higher|better|more|"
    r"less|fewer|relative|absolute|average|improvements|gains)\s+)?(?:in\s+|on\s+|of\s+)?(?:the\s+)?"
    r"(?P<m>[\w@-]+(?:\s+[\w@-]+){0,2})",
    re.IGNORECASE,
)
_NOT_METRIC = frozenset(
    "on in of the and with for at from over across than compared while on to a an by is are was were which that "
    "this these those it its we our respectively average overall up more less fewer times when using only "
    "increase improvement gain reduction decrease drop boost enhancement higher lower better relative absolute "
    "vs vs. versus baseline baselines results result".split()
)
# What may stand between a number and the metric named after it: "85.3% top-1 accuracy", "2.07% in mAP",
# "45% higher task success rates", "a 30% reduction in training time".
_GAP_AFTER = re.compile(
    r"^\s*(?:(?:absolute|relative|average|overall|higher|lower|better|improvement|improvements|increase|reduction|"
    r"gain|gains|decrease|drop|boost|more|less|fewer|points?|pp|percent|percentage|top|mean|lift|enhancement)\s+)*"
    r"(?:in\s+|of\s+|on\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
_FASTER = re.compile(r"^\s*(?:faster|speed-?ups?|acceleration|quicker)\b", re.IGNORECASE)
_CLAUSE = re.compile(r"[;]|, (?:and |while |whereas |but )|\band\b(?= [a-z]+ (?:by|of) )")


@lru_cache(maxsize=8)
def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of ``names`` (longest first, hyphens as spaces) between word boundaries."""
    ordered = sorted({n.lower().replace("-", " ") for n in names}, key=lambda n: (-len(n), n))
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, ordered)) + r")(?![a-z0-9])")


@lru_cache(maxsize=64)
def _lexicon_hits(text: str, lexicon: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, name) of lexicon names in ``text``, the longest at each place."""
    low = text.lower().replace("-", " ")  # "win-rate" is "win rate": same length, same offsets
    return [(m.start(), m.end(), text[m.start() : m.end()]) for m in _pattern(lexicon).finditer(low)]


def _tidy(phrase: str) -> str:
    phrase = phrase.strip(" ,.;:()")
    for _ in range(3):
        phrase = _ARTICLE.sub("", phrase)
        phrase = _STOP_TAIL.sub("", phrase)
    words = phrase.split()
    return "" if not words or all(w.lower() in _NOT_METRIC or w[0].isdigit() for w in words) else phrase


def metric_for(text: str, q: Quantity, lexicon: tuple[str, ...]) -> str:
    """The metric the sentence names for ``q``: a lexicon name right after it ("85.3% top-1 accuracy", "2.07% in
    mAP"), else one a pattern puts before it ("an accuracy of", "improves X by"), else a phrase after it ("by 7%
    on semantic similarity") or before it, else "speed" for "Nx faster", else the nearest lexicon name."""
    hits = _lexicon_hits(text, lexicon)
    after = text[q.end :]
    for start, _end, name in hits:
        if start >= q.end and _GAP_AFTER.match(text[q.end : start]):
            return name
    head = text[max(0, q.start - 60) : q.start]
    offset = q.start - len(head)
    phrases = []
    for pattern in (_OF, _VERB_BY):
        found = pattern.search(head)
        if found:
            inside = [name for s, e, name in hits if s >= offset + found.start("m") and e <= q.start]
            if inside:
                return inside[-1]
            phrase = _tidy(found.group("m"))
            if phrase and phrase == phrase.lower() and len(phrase.split()) <= 4:
                phrases.append(phrase)
    found = _AFTER.match(after)
    if found and re.match(r"^\s*(?:\w+\s+)?(?:in|on)\s+[a-z]", after) and _tidy(found.group("m")):
        return _tidy(found.group("m"))  # "by 7% on semantic similarity", "a 20% increase in accuracy"
    if phrases:
        return phrases[0]
    if _FASTER.match(after) or (q.unit == "x" and not hits):
        return "speedup" if re.match(r"^\s*speed", after, re.IGNORECASE) else "speed"
    before = [(s, name) for s, e, name in hits if e <= q.start]
    if before and not _CLAUSE.search(text[before[-1][0] : q.start]):
        return before[-1][1]
    if found and _tidy(found.group("m")) and q.unit in ("%", "points"):
        return _tidy(found.group("m"))
    if before:
        return before[-1][1]
    later = [name for s, e, name in hits if s >= q.end]
    return later[0] if later else ""


_NAME = r"[A-Z][\w+.\-]*(?:\s(?:[A-Z0-9][\w+.\-]*|Verified|Lite|Pro|Hard|Open|test|val|validation))*"
_ON_NAME = re.compile(rf"\b(?:on|in|for|across|over)\s+(?:the\s+)?(?P<d>{_NAME})")
_NAME_SET = re.compile(rf"(?P<d>{_NAME})\s+(?:dataset|benchmark|test set|testing set|validation set|suite|corpus)s?\b")
_MODEL_NAME = re.compile(
    r"^(?:GPT|Llama|LLaMA|Qwen|Gemini|Claude|Mistral|Mixtral|DeepSeek|Phi|o\d|OpenAI o|Grok|PaLM|BERT|RoBERTa|T5|"
    r"ViT|ResNet|YOLO|SAM|CLIP|Stable Diffusion|SD|We|Our|The|This|These|Compared|In|On|With|For|By|Our|CPU|GPU|"
    r"TPU|AI|LLM|LLMs|MLLMs?|VLMs?|RL|ML|DL|NLP|SOTA|API)\b|^(?:Qwen|GPT|Llama|LLaMA|Gemma|Phi|CogVideo|Claude)"
)
_POINT_BACK = re.compile(
    r"\b(?:on|across|in) (?:it|both|this (?:benchmark|dataset|task)|the (?:benchmark|"
    r"test set|dataset))\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)
def _dataset_names(text: str, known: tuple[str, ...]) -> list[tuple[int, str]]:
    """(position, name) of the benchmarks a sentence names: known ones, "on X" names, "X dataset" names."""
    found: dict[int, str] = {start: name for start, _end, name in _lexicon_hits(text, known)}
    for pattern in (_ON_NAME, _NAME_SET):
        for m in pattern.finditer(text):
            name = m.group("d").rstrip(".,;:")
            if _MODEL_NAME.match(name) or len(name) < 2 or not any(c.isupper() for c in name[1:] + name[:1]):
                continue
            if not any(a <= m.start("d") < a + len(n) for a, n in found.items()):
                found[m.start("d")] = name
    return sorted(found.items())


def dataset_for(
    text: str,
    q: Quantity,
    known: tuple[str, ...],
    sentences: Sequence[str],
    index: int,
    context: dict[str, str],
    metrics: frozenset[str] = frozenset(),
) -> str:
    """The benchmark the sentence names for ``q``: the nearest one after it in its clause ("55.3% on PopQA"),
    else the nearest before it; "on it"/"on both": the one an earlier sentence named. ``context`` remembers the
    last benchmark the abstract named."""
    names = [(p, n) for p, n in _dataset_names(text, known) if n.lower() not in metrics]
    if not names:
        if _POINT_BACK.search(text) and context.get("dataset"):
            return context["dataset"]
        return ""
    context["dataset"] = names[-1][1]
    before = [(p, n) for p, n in names if p + len(n) <= q.start]
    if before and re.fullmatch(r"\s?\(\s?", text[before[-1][0] + len(before[-1][1]) : q.start]):
        return before[-1][1]  # "PopQA (55.3%)"
    after = [(p, n) for p, n in names if p >= q.end and not re.search(r"[;(]", text[q.end : p])]
    if after and p_gap(text, q.end, after[0][0]) <= 60:
        return after[0][1]
    if before:
        return before[-1][1]
    return after[0][1] if after else ""


def p_gap(text: str, start: int, end: int) -> int:
    return len(text[start:end])


_METHOD = re.compile(
    r"\b(?:we (?:propose|introduce|present|develop|design)|called|named|dubbed|termed)\s+"
    r"(?:a\s+|an\s+|the\s+)?(?:[\w-]+\s+){0,6}?\(?(?P<n>[A-Z][\w-]*[A-Z][\w-]*)\)?"
)


def method_name(title: str, sentences: Sequence[str]) -> str:
    """The paper's method name: the title's short prefix before a colon ("ProMoE: ..."), else the name it says
    it proposes; "ours" when it gives none."""
    head, colon, _ = title.partition(":")
    if colon and 0 < len(head.split()) <= 3 and any(c.isupper() for c in head[1:]):
        return head.strip()
    for sentence in sentences[:6]:
        found = _METHOD.search(sentence)
        if found:
            return found.group("n")
    return "ours"


_CAPITAL = re.compile(r"\b(?P<n>[A-Z][\w.\-]*[A-Z0-9][\w.\-]*|[A-Z][a-z]+-\d[\w.\-]*)\b")


def baseline_for(text: str, q: Quantity) -> str:
    """Whose result a baseline's number is: the nearest name before it ("GPT-4o reaches only 41%"), else after
    it ("0.22 for ResNet-50"), else "baseline"."""
    before = list(_CAPITAL.finditer(text[max(0, q.start - 80) : q.start]))
    if before:
        return before[-1].group("n")
    after = _CAPITAL.search(text[q.end : q.end + 40])
    return after.group("n") if after else "baseline"


_RELATIVE = re.compile(
    r"\b(?:than|over|compared (?:to|with)|relative to|versus|vs\.?)\s+(?:the\s+)?"
    r"(?P<r>[\w-]+(?:\s+[\w-]+){0,4}?)(?=[,.;)]|\s+(?:on|in|by|and|while|with|across)\b|$)"
)


def relative_to(text: str, q: Quantity) -> str:
    """What a change is relative to, as the sentence names it ("than RoBERTa", "compared to PPO"), else ""."""
    found = _RELATIVE.search(text[q.end : q.end + 160]) or _RELATIVE.search(text[max(0, q.start - 160) : q.start])
    return found.group("r").strip() if found else ""

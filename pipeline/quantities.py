"""The numbers a sentence states, read the way a score is written, and why a number is not a score.

Shared by the record's validators (`pipeline.schema.Score`: an LLM's score is refused with the reason) and the
embedded scores extractor (`pipeline.extractive.scores`: the reasons are its features). A sentence is first made
plain (`plain`): LaTeX as text (``98.6\\%`` → ``98.6%``, ``$2.7\\times$`` → ``2.7x``), so a value reads as a
reader writes it. `quantities` finds each number with its sign, range and unit; `not_a_score` says when the
number is a year, part of a name ("GPT-4", "Llama-3-8B", "3D"), a dataset or model size, or a hyper-parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.claims import name_grounded, numbers_in

_LATEX = (
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\$?\\times\$?|×"), "x"),
    (re.compile(r"\\(?:sim|approx)\s*|\$\\(?:sim|approx)\$|≈|∼"), "~"),
    (re.compile(r"\\[,;:! ]"), " "),
    (re.compile(r"\\-"), "-"),
    (re.compile(r"[–—−]"), "-"),
    (re.compile(r"\\(?:pm)\s*|±"), "±"),
    (re.compile(r"\\(?:geq|ge)\s*|≥"), ">="),
    (re.compile(r"\\(?:leq|le)\s*|≤"), "<="),
    (re.compile(r"\\\$"), "\x00"),
    (re.compile(r"_\{([^{}]*)\}"), r"_\1"),
    (re.compile(r"\\(?:text|mathrm|textbf|mathbf|emph|textit|mathit|bm)\{([^{}]*)\}"), r"\1"),
    (re.compile(r"\$"), ""),
    (re.compile("\x00"), "$"),
)
_SPACES = re.compile(r"[ \t]{2,}")


def plain(text: str) -> str:
    """``text`` with the LaTeX and typography of numbers written as plain text (a cheap no-op without them)."""
    if "\\" in text or "$" in text or any(c in text for c in "×–—−≈∼±≥≤"):
        for pattern, repl in _LATEX:
            text = pattern.sub(repl, text)
        text = _SPACES.sub(" ", text)
    return text


_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
# A unit that stays in ``value`` ("85.3%", "3.2x", "1.4 points", "10 dB", "3.6 seconds").
_UNIT = (
    r"\s?%|\s?x(?![a-zA-Z])|-?fold\b|[- ]?percent(?:age points?|age)?\b"
    r"|\s?(?:percentage points?|points?|pp|p\.p\.)(?![a-zA-Z])"
    r"|\s?(?:dB|ms|seconds?|minutes?|hours?|days?|FPS|fps|KB|MB|GB|TB|GPU days|tokens|micron|mm|cm|T|s)(?![a-zA-Z])"
)
_QUANTITY = re.compile(
    rf"(?P<sign>[+±]|>=|<=|[<>~]|-(?=\d))?(?P<num>{_NUM})(?P<mag>[kKMB](?![a-zA-Z]))?"
    rf"(?P<range>\s?(?:-|~|to)\s?(?P<num2>{_NUM})(?![\d.]))?"
    rf"(?P<unit>{_UNIT})?"
)
_ONE = re.compile(rf"(?P<sign>[+±]|>=|<=|[<>~]|-(?=\d))?(?P<num>{_NUM})(?P<mag>[kKMB](?![a-zA-Z]))?(?P<unit>{_UNIT})?")
_FROM = re.compile(r"\bfrom\s*$", re.IGNORECASE)
_TIGHT = re.compile(r"\s+(?=[%x]$)")
_BETWEEN = re.compile(r"\bbetween\s*$", re.IGNORECASE)
_AND_NUM = re.compile(rf"\s(?:and|to)\s(?={_NUM})")
# What a number attached to the word before it is: "GPT-4", "ResNet-50", "YOLOv8", "Recall@5", "F1".
_NAME_BEFORE = re.compile(r"(?:[A-Za-z][\w.]*[-_@/]?|[\w.]*\d[-_@/])$")
_NAME_AFTER = re.compile(r"^(?:[A-Za-z](?![a-z]{3,})|-[A-Za-z]|\.\d)")


@dataclass(frozen=True, slots=True)
class Quantity:
    """One number of a (plain) sentence: where it is, as written, its float, its unit, its digits."""

    start: int
    end: int
    value: str
    number: float
    unit: str
    digits: str


def digits(value: str) -> str:
    """The digits of a value in order: "85.3%" → "853"; how the matching rule compares two values."""
    return "".join(c for c in value if c.isdigit())


def _unit_of(found: re.Match[str]) -> str:
    unit = (found.group("unit") or "").strip().lower()
    if unit in ("x", "fold", "-fold"):
        return "x"
    if "point" in unit or unit in ("pp", "p.p."):
        return "points"
    if "percent" in unit or unit == "%":
        return "%"
    return unit


def quantities(text: str) -> list[Quantity]:
    """The numbers ``text`` (made `plain`) states as a score would be written; numbers glued to a word before them
    ("GPT-4", "F1", "v2") are not read. A range ("3-5%", "79% to 89%") is one quantity, "from 41.2% to 55.0%" two."""
    out: list[Quantity] = []
    merge_until = -1
    for found in _QUANTITY.finditer(text):
        start = found.start()
        if start < merge_until:
            continue
        before = text[max(0, start - 24) : start]
        sign = found.group("sign") or ""
        # "r>0.6", "p<0.001" compare; "GPT-4", "F1", "v2" name
        if sign not in ("<", ">", "<=", ">=") and _NAME_BEFORE.search(before):
            continue
        if found.group("range") and _FROM.search(before) and " to" in found.group("range"):
            out.extend(_single(text, found, first=True))
            continue
        value = found.group(0).strip()
        end = found.end()
        second = _AND_NUM.match(text, end) if _BETWEEN.search(before) and not found.group("range") else None
        tail = _ONE.match(text, second.end()) if second else None
        if tail is not None:  # "between 2.7% and 12.4%": one range
            value, end = f"{value.rstrip('%').strip()}-{tail.group(0).strip()}", tail.end()
            merge_until = end
        if sign == "~":
            value = value[1:]
        value = _TIGHT.sub("", value)
        number = float(found.group("num").replace(",", ""))
        if sign == "-":
            number = -number
        unit = _unit_of(found) or (_unit_of(tail) if tail is not None else "")
        out.append(Quantity(start, end, value, number, unit, digits(value)))
    return out


def _single(text: str, found: re.Match[str], first: bool) -> list[Quantity]:
    """A "from A to B" pair as two quantities (a before and an after)."""
    a = _ONE.match(text, found.start("num"))
    b = _ONE.match(text, found.start("num2"))
    return [
        Quantity(
            m.start(),
            m.end(),
            m.group(0).strip(),
            float(m.group("num").replace(",", "")),
            _unit_of(m),
            digits(m.group(0)),
        )
        for m in (a, b)
        if m is not None
    ]


_YEAR = re.compile(r"^(?:19|20)\d\d$")
_DATA_NOUN = re.compile(
    r"^\s?(?:[\w-]+\s){0,2}?(?:samples|images|examples|instances|videos|clips|documents|pairs|questions|problems|"
    r"prompts|queries|sentences|utterances|hours|languages|datasets|benchmarks|tasks|subjects|participants|users|"
    r"patients|annotations|trajectories|episodes|papers|articles|records|entries|scenes|frames|categories|"
    r"classes|domains|environments|models|LLMs|baselines|species|points|tokens|words|items|cases|methods)\b",
    re.IGNORECASE,
)
_SIZE_CUE = re.compile(
    r"\b(?:dataset|benchmark|corpus|collection|suite|comprising|containing|contains|consisting|consists|includ\w*|"
    r"across|spanning|covering|with|on|collected|curated|annotated|evaluate\w*|total(?:ing)?|"
    r"featuring|encompassing)\W*(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
_HYPER = re.compile(
    r"(?:\b[A-Za-z]\s?(?:=|≈)\s?|\b(?:batch size|learning rate|epochs?|layers?|heads?|dimension|dim|seed|top-?|"
    r"rank|temperature|window|context length|resolution of|steps?|k)\s(?:of\s)?)$",
    re.IGNORECASE,
)
_MODEL_SIZE = re.compile(r"^[\s-]?(?:parameters?|params|billion|million)\b", re.IGNORECASE)
_REDUCTION = re.compile(r"\b(?:fewer|less|reduc\w*|sav\w*|compress\w*|smaller|cut\w*|lower)\b", re.IGNORECASE)


_DIMENSIONS = re.compile(r"^\s?\d")
_INTERVAL = re.compile(r"^\s?(?:CI\b|confidence (?:interval|level)|credible)", re.IGNORECASE)
_VERSION_BEFORE = re.compile(
    r"\b(?:GPT|Gemini|Claude|Llama|LLaMA|Qwen|Flash|Pro|Turbo|Sonnet|version|v\.|release|Python|CUDA|Mistral|"
    r"DeepSeek|Phi)\s?$"
)
_VERSION_AFTER = re.compile(r"^\s?(?:Turbo|Pro|Flash|Sonnet|Opus|Haiku|mini|Mini|Max|Plus|Ultra|Instruct)\b")


def not_a_score(text: str, quantity: Quantity) -> str | None:
    """Why ``quantity`` of ``text`` (made `plain`) is not a reported score, or None: a year, part of a name or a
    model size ("3D", "7B"), a dataset size or a count of what was evaluated ("10k images", "on 6 benchmarks"), or
    a hyper-parameter ("k = 5"). A size reduction the paper reports ("60% fewer parameters") is a score."""
    value = quantity.value
    after = text[quantity.end : quantity.end + 40]
    before = text[max(0, quantity.start - 40) : quantity.start]
    if _YEAR.match(value):
        return "a year"
    if quantity.unit == "x" and _DIMENSIONS.match(after):
        return "a size written as dimensions (like 256x256), not a result"
    if _INTERVAL.match(after):
        return "a confidence level, not a result"
    if _VERSION_BEFORE.search(before) or _VERSION_AFTER.match(after):
        return "a version or part of a model name (like Gemini 1.5, GPT-3.5 Turbo), not a result"
    if _NAME_AFTER.match(after) or (value[-1:] == "B" and not quantity.unit):
        return "part of a name or a model size (like GPT-4, Llama-3-8B, 3D, 7B)"
    if quantity.unit in ("", "k", "m") and _MODEL_SIZE.match(after) and not _REDUCTION.search(before + after[:30]):
        return "a model size, not a result"
    if quantity.unit in ("", "tokens") and _DATA_NOUN.match(after) and _SIZE_CUE.search(before):
        return "the size of a dataset or a count of what was evaluated, not a result"
    if quantity.unit == "" and _HYPER.search(before):
        return "a hyper-parameter or a setting, not a result"
    return None


MAX_SCORES = 60  # scores one paper keeps: an abstract states a few dozen at most
# Generic names a score may carry although the abstract words them otherwise ("3.2x faster": speedup).
_GENERIC_METRICS = frozenset("speedup speed-up speed improvement reduction gain performance".split())
_OURS = frozenset("ours our method our approach our model our system the proposed method".split(" "))


def _sentences(abstract: str, grounding: dict[str, Any]) -> list[str]:
    """The abstract's sentences, split once per grounding context (a re-ask validates the same abstract)."""
    found = grounding.get("sentences")
    if found is None:
        from pipeline.extractive.text import split_sentences

        found = split_sentences(abstract)
        grounding["sentences"] = found
    return found


@lru_cache(maxsize=512)
def read_sentence(sentence: str) -> tuple[str, frozenset[str], tuple[Quantity, ...]]:
    """A sentence made `plain`, the numbers it states (`numbers_in`) and its `quantities`, read once: the
    extractor and the validator both read every sentence with a number."""
    text = plain(sentence)
    return text, frozenset(numbers_in(text)), tuple(quantities(text))


def score_problem(score: dict[str, Any], abstract: str, grounding: dict[str, Any] | None = None) -> str | None:
    """What is wrong with ``score`` (a `pipeline.schema.Score` as a dict) as a score ``abstract`` states, said so
    that a re-ask can fix it; None when it is grounded: its number is written in its sentence and is a result
    there (`not_a_score`), its number field agrees with its value, and its dataset, metric and subject are the
    abstract's names."""
    sentences = _sentences(abstract, grounding if grounding is not None else {})
    index, value = score.get("sentence"), str(score.get("value", ""))
    wanted = digits(value)
    if not wanted:
        return "has no number written with digits: give the number as the abstract writes it"
    if not isinstance(index, int) or not 0 <= index < len(sentences):
        return f"cites sentence {index}, but the abstract has sentences 0 to {len(sentences) - 1}"
    stated = numbers_in(value)
    text, numbers, found = read_sentence(sentences[index])
    if not stated <= numbers:
        where = [i for i, s in enumerate(sentences) if stated and stated <= numbers_in(plain(s))]
        if where:
            return f"is not stated in sentence {index}; sentence {where[0]} states it: give that index"
        return "is a number the abstract does not state; give only numbers the abstract writes, as written"
    number = abs(float(score.get("number", 0.0)))  # a sign is the value's ("-4 dB", "+4.5")
    if not any(abs(float(n) - number) <= 1e-6 * max(1.0, float(n)) for n in stated):
        return f"has number {score.get('number')}, but its value writes {value}: give the value's number as written"
    near = [q for q in found if q.digits == wanted] or [
        q for q in found if q.digits and (wanted.startswith(q.digits) or q.digits.startswith(wanted))
    ]
    if not near:
        return "is part of a name in its sentence (like GPT-4, ResNet-50, F1), not a score: leave it out"
    reasons = [not_a_score(text, q) for q in near]
    if all(reasons):
        return f"is {reasons[0]} in sentence {index}: leave it out"
    low = grounding.get("low_abstract") if grounding is not None else None
    if low is None:
        low = abstract.lower()
        if grounding is not None:
            grounding["low_abstract"] = low
    for key in ("dataset", "metric", "subject"):
        name = " ".join(str(score.get(key) or "").split())
        if name.lower() in low:  # written as is: grounded (its numbers with it)
            continue
        if not name or (key == "subject" and name.lower() in _OURS):
            continue
        if key == "metric" and name.lower() in _GENERIC_METRICS:
            continue
        if not name_grounded(name, abstract):
            return f"names the {key} {name!r}, which the abstract does not: write it as the abstract does, or ''"
    return None

"""The tldr: pick the abstract sentence that best states the paper, then shorten it without adding a word.

`features` describes each sentence of one abstract (its role probabilities from `pipeline.extractive.roles`, where it sits,
how long it is, how much of the title and of the rest of the abstract it shares, contribution and result cues);
a conditional-logit selector, trained on SciTLDR-A train by ``python -m pipeline.extractive.train`` (weights in
``pipeline/extractive/weights/tldr.json``), scores them and the best one wins. `compress` then drops what a one-line summary
does not need (an "In this paper," opener, parentheticals, citations, a trailing "which ..." clause) and never
adds or reorders a word, so the tldr stays grounded in the abstract.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from math import fsum
from pathlib import Path

import numpy as np

from pipeline.errors import ModelFileError
from pipeline.grounding import idf_table, terms
from pipeline.extractive.roles import MODEL_DIR, ROLES, load_weights, save_weights

TLDR_FILE = "tldr.json"
FEATURE_NAMES: tuple[str, ...] = (
    *(f"p_{r}" for r in ROLES),
    "bias",
    "first",
    "second",
    "last",
    "rel_pos",
    "rel_pos2",
    "len_short",
    "len_mid",
    "len_long",
    "len_xl",
    "title_overlap",
    "centrality",
    "contribution",
    "we_start",
    "in_this_paper",
    "result_cue",
    "has_number",
    "question",
    "colon",
    "link",
    "idf_cover",
    "idf_title",
    "artefact_cue",
    "objective_early",
    "method_early",
    "result_last",
    "words_40",
    "we_propose_start",
    "we_inside",
    "late",
    "top_objective",
    "top_method",
    "top_result",
    "top_cover",
    "top_title",
    "objective_gap",
    "title_gap",
)
_WORD = re.compile(r"[a-z][a-z0-9-]+")
_STOP = frozenset(
    "the a an of and or to in on for with by from is are was were be been this that these those we our it its as at "
    "which can such than into via also both using use used based new show paper work".split()
)
# A sentence stating the paper's own contribution ("we propose", "this paper presents"); the embedded engine uses
# it too.
CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study)|our (work|paper|approach))\b.{0,40}?\b(propose|introduce|present|develop|"
    r"design|show|demonstrate|find|release|build|describe)",
    re.IGNORECASE,
)
_RESULT = re.compile(r"\b(outperform\w*|achiev\w*|improv\w*|state-of-the-art|results? (show|demonstrate))\b", re.I)


_DIGIT = re.compile(r"\d")
_ARTEFACT = re.compile(
    r"\b(novel|new|first|simple|effective|efficient|framework|approach|method|model|algorithm|technique|benchmark|"
    r"dataset)\b",
    re.IGNORECASE,
)


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def features(title: str, sentences: Sequence[str], probs: np.ndarray) -> np.ndarray:
    """One row of `FEATURE_NAMES` per sentence."""
    n = len(sentences)
    words = [_content(s) for s in sentences]
    title_words = _content(title)
    rows = []
    for i, sentence in enumerate(sentences):
        rel = i / max(n - 1, 1)
        length = sentence.count(" ") + 1
        own = words[i]
        central = 0.0
        if n > 1:
            central = sum(len(own & o) / (len(own | o) or 1) for j, o in enumerate(words) if j != i) / (n - 1)
        low = sentence.lower()
        rows.append(
            (
                1.0,
                i == 0,
                i == 1,
                i == n - 1,
                rel,
                rel * rel,
                length < 15,
                15 <= length < 30,
                30 <= length < 45,
                length >= 45,
                len(own & title_words) / len(title_words) if title_words else 0.0,
                central,
                bool(CONTRIBUTION.search(sentence)),
                low.startswith("we "),
                low.startswith(("in this paper", "in this work", "this paper", "this work")),
                bool(_RESULT.search(sentence)),
                bool(_DIGIT.search(sentence)),
                "?" in sentence,
                ":" in sentence,
                "http" in low or "github" in low,
            )
        )
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES)))
    weighted = _weighted(title, sentences, probs)
    return np.hstack(
        [
            np.asarray(probs, dtype=np.float64),
            np.array(rows, dtype=np.float64),
            weighted,
            _relative(np.asarray(probs, dtype=np.float64), weighted[:, 0], weighted[:, 1]),
        ]
    )


def _relative(probs: np.ndarray, cover: np.ndarray, titled: np.ndarray) -> np.ndarray:
    """Where a sentence stands among its abstract's: the most objective-, method-, result-like, the one whose words
    the abstract repeats most, the one that covers most of the title, and how far it is from the top two of these."""
    objective, method, result = (ROLES.index(r) for r in ("objective", "method", "result"))
    return np.column_stack(
        [
            probs[:, objective] == probs[:, objective].max(),
            probs[:, method] == probs[:, method].max(),
            probs[:, result] == probs[:, result].max(),
            cover == cover.max(),
            titled == titled.max(),
            probs[:, objective] - probs[:, objective].max(),
            titled - titled.max(),
        ]
    ).astype(np.float64)


def _weighted(title: str, sentences: Sequence[str], probs: np.ndarray) -> np.ndarray:
    """Features weighted by rarity (idf over the training abstracts): how much of a sentence's vocabulary the rest of
    the abstract repeats, how much of the title it covers; role probabilities where the paper's point usually sits."""
    table, unseen = idf_table()
    n = len(sentences)
    own = [terms(s) for s in sentences]
    title_terms = terms(title)
    # math.fsum: exactly rounded whatever the order, and set order changes with every process's string hashing;
    # a plain sum made training differ in the last bits between runs.
    title_weight = fsum(table.get(w, unseen) for w in title_terms) or 1.0
    seen: Counter[str] = Counter()
    for words in own:
        seen.update(words)
    rows = []
    for i, sentence in enumerate(sentences):
        words = own[i]
        weight = fsum(table.get(w, unseen) for w in words) or 1.0
        repeated = fsum(table.get(w, unseen) * min(seen[w] - 1, 2) / 2 for w in words) / weight
        titled = fsum(table.get(w, unseen) for w in words & title_terms) / title_weight
        low = sentence.lower()
        p = probs[i]
        rows.append(
            (
                repeated,
                titled,
                bool(_ARTEFACT.search(sentence)),
                p[1] * (i < 3),
                p[2] * (i < 3),
                p[3] * (i == n - 1),
                (sentence.count(" ") + 1) / 40.0,
                low.startswith(("we propose", "we present", "we introduce")),
                " we " in f" {low} ",
                i >= 4,
            )
        )
    return np.array(rows, dtype=np.float64)


class TldrSelector:
    def __init__(self, weights: np.ndarray):
        if weights.shape != (len(FEATURE_NAMES),):
            raise ModelFileError(f"tldr weights have shape {weights.shape}, expected ({len(FEATURE_NAMES)},)")
        self.weights = weights

    def scores(self, title: str, sentences: Sequence[str], probs: np.ndarray) -> np.ndarray:
        return features(title, sentences, probs) @ self.weights

    def select(self, title: str, sentences: Sequence[str], probs: np.ndarray) -> int:
        return int(np.argmax(self.scores(title, sentences, probs)))

    def save(self, directory: Path) -> None:
        save_weights(directory / TLDR_FILE, FEATURE_NAMES, [round(float(w), 6) for w in self.weights])

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> TldrSelector:
        weights = load_weights(directory / TLDR_FILE, FEATURE_NAMES, "tldr selector")
        return cls(np.array(weights, dtype=np.float64))


@lru_cache(maxsize=1)
def default_selector() -> TldrSelector:
    return TldrSelector.load(MODEL_DIR)


# --- Compression: only deletions, so every word still comes from the abstract. -------------------------------

_OPENERS = re.compile(
    r"^(?:(?:in|within) (?:this|the present|our) (?:paper|work|study|article|letter|note)|here|in this regard|"
    r"to this end|to (?:address|tackle|overcome|solve|fill|mitigate|alleviate|bridge|close|remedy|resolve) "
    r"(?:this|these|those|the above|such|both)(?: [a-z-]+){0,2}|"
    r"specifically|in particular|moreover|furthermore|additionally|in addition|finally|therefore|thus|hence|"
    r"consequently|motivated by (?:this|these observations?)|inspired by (?:this|these observations?)|"
    r"building on (?:this|these) (?:insights?|observations?|findings?)|as a result|overall|"
    r"in (?:this|that) (?:context|setting|spirit)|to that end|"
    r"through extensive experiments(?: on [^,]{1,60})?|experimentally|empirically),\s+",
    re.IGNORECASE,
)
# A leading clause before the paper's own voice ("Based on this observation, we introduce ..."): a tldr shown
# alone has nothing for "this observation" to point to.
_LEAD_CLAUSE = re.compile(
    r"^(?:based on|motivated by|inspired by|building on|instead of|unlike|while|whereas|although|by|given|"
    r"to (?!this end|that end)\w+|in order to|with|despite|towards?|for)\b[^,;:]{8,160},\s+(?=(?:we|this (?:paper|work|"
    r"study)|our (?:work|paper|approach|method))\b)",
    re.IGNORECASE,
)
_OPENERS_NO_COMMA = re.compile(r"^(?:in this (?:paper|work|study|article)|here)\s+(?=we\b)", re.IGNORECASE)
_PARENTHETICAL = re.compile(r"\s*\((?:[^()]|\([^()]*\))*\)")
_BRACKET_CITATION = re.compile(r"\s*\[[^\[\]]*\]")
# LaTeX markup that arXiv abstracts keep ("a \\textit{training-free} model"): the command goes, its text stays.
_LATEX_MARKUP = re.compile(r"\\(?:textit|textbf|textsc|texttt|textrm|emph|mathrm|mathbf|mathit|text)\{([^{}]*)\}")
_TRAILING = re.compile(
    r",\s+(?:which|where|while|thereby|thus|hence|making|allowing|enabling|leading|resulting|"
    r"demonstrating|showing|yielding|achieving|as well as|in contrast to|compared to|unlike|such that)\b.*$",
    re.IGNORECASE,
)
MIN_WORDS = 8


def tldr_text(sentence: str) -> str:
    """What the tldr shows of its sentence (and what the selector is trained on): openers, asides and a leading
    clause go ("Based on this observation, we introduce ..."); the trailing clause stays (cutting it costs 0.6
    ROUGE-1 on SciTLDR dev: it carries words the human TLDRs use)."""
    return compress(sentence, trailing=False, lead=True)


def compress(sentence: str, *, trailing: bool = True, lead: bool = False) -> str:
    """A shorter form of ``sentence`` made by deletions only: openers, parentheticals, citations, trailing clauses,
    and with ``lead`` a leading clause before the paper's own voice (the tldr's: in a problem cell that clause is
    often the gap itself).

    Never returns fewer than `MIN_WORDS` words when the sentence had more (a cut that would leave less is skipped).
    """
    text = " ".join(sentence.split())
    # Asides go whenever something is left; cuts of whole phrases only when a real sentence remains.
    steps = [
        (lambda t: _LATEX_MARKUP.sub(r"\1", t), 1),
        (lambda t: _PARENTHETICAL.sub("", t), 3),
        (lambda t: _BRACKET_CITATION.sub("", t), 3),
        (lambda t: _OPENERS_NO_COMMA.sub("", t, count=1), MIN_WORDS),
        (lambda t: _OPENERS.sub("", t, count=1), MIN_WORDS),
    ]
    if lead:
        steps.append((lambda t: _LEAD_CLAUSE.sub("", t, count=1), MIN_WORDS))
    if trailing:
        steps.append((lambda t: _TRAILING.sub("", t, count=1), MIN_WORDS))
    for step, least in steps:
        shorter = " ".join(step(text).split())
        if shorter != text and len(shorter.split()) >= min(least, len(text.split())):
            text = shorter
    text = re.sub(r"\s+([,.;:])", r"\1", text).strip(" ,;:")
    if text and text[0].islower() and sentence.strip()[:1].isupper():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    return text

"""Which abstract sentence is the key result, the problem, the method: trained selectors for the embedded engine.

`features` describes every sentence of one abstract once (its role marginals from `pipeline.extractive.roles`, where it sits,
its length, numbers, quantified comparisons, cue words for findings, gaps, the paper's own voice, experiments,
surveys, and where it stands among its abstract's sentences); a conditional logit per field (``FIELDS``) scores
them and `pipeline.engines.embedded` takes the best sentence that its rules allow. The weights are fitted by
``python -m pipeline.extractive.train`` on the modern arXiv abstracts of ``data/modern/train.jsonl``: each sentence's target is
the softmax of its ROUGE-1 with the LLM's field (``result``, ``motivation``, ``method``), so the selector learns
which sentence an LLM restates as the paper's finding, motivation and method. Weights in ``pipeline/extractive/weights/fields.json``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.errors import ModelFileError
from pipeline.extractive.roles import MODEL_DIR, ROLES, load_weights, save_weights

FIELDS_FILE = "fields.json"
FIELDS: tuple[str, ...] = ("key_result", "problem", "method")
# One scan per sentence (of its lowercased text) finds every cue: a regex per cue costs a tenth of the engine's
# time otherwise. "finding" states a result outright; "outcome" is a word an outcome is reported with.
_CUE = re.compile(
    r"\b(?:"
    r"(?P<finding>results? (?:show|shows|demonstrate|indicate|reveal|suggest|confirm)|experiments? (?:show|"
    r"demonstrate|reveal|indicate|confirm)|(?:we|they) (?:show|find|found|observe|demonstrate|reveal|confirm|prove) "
    r"that|(?:shows?|demonstrates?|reveals?|indicates?|establish\w*|confirms?|proves?) that|"
    r"as (?:solid )?evidence|outperform\w*|surpass\w*|beat\w*|state-of-the-art|sota)|"
    r"(?P<outcome>(?:we|they) (?:show|find|found|observe|demonstrate|reveal|confirm|prove)|exhibit\w*|achiev\w*|"
    r"yield\w*|"
    r"improv\w*|reduc\w*|boost\w*|exceed\w*|attain\w*|obtain\w*|better|faster|higher|lower|fewer|comparabl\w*|"
    r"competitive|effective\w*|accura\w*|robust\w*|significant\w*|superior\w*|speedup|gains?|enables?|"
    r"leads? to|results in|demonstrat\w*|reveal\w*|validated|validates|discover\w*|identified|findings?|"
    r"emerged?|insights?|shows?|showed|shown|finds?|suggest\w*|indicat\w*|verified|confirm\w*|efficacy|"
    r"successful\w*|consistently|substantially)|"
    r"(?P<gap>however|but|yet|remains?|challeng\w*|lacks?|limited|limitations?|difficult|problems?|issues?|fail\w*|"
    r"struggl\w*|costly|expensive|unclear|underexplored|bottleneck\w*|hinder\w*|suffer\w*|insufficient|neglect\w*|"
    r"overlook\w*|gap)|"
    r"(?P<own>we (?:propose|present|introduce|develop|design|build|describe)|this (?:paper|work|study) "
    r"(?:proposes|presents|introduces|develops|describes))|"
    r"(?P<how>by|via|through|using|leverag\w*|employ\w*|consist\w*|compris\w*|integrat\w*|incorporat\w*|"
    r"module|architecture|pipeline|first|then|specifically|stage|mechanism)|"
    r"(?P<eval>experiments?|evaluat\w*|benchmarks?|datasets?|empirical\w*|extensive)|"
    r"(?P<survey>survey|review|overview|we argue|position paper|taxonomy|perspective)|"
    r"(?P<wrap>overall|in conclusion|these (?:results|findings)|our (?:results|findings)|pav\w* the way|"
    r"implications?|highlight\w*|underscor\w*)"
    r")\b"
)
_CUE_GROUPS = ("finding", "outcome", "gap", "own", "how", "eval", "survey", "wrap")
_OPENER = re.compile(r"^\W*(?:however|but|yet|this|these|those|such|it|they|its|their|despite|nevertheless)\b", re.I)
_COMPARED = re.compile(r"\b(?:than|compared (?:to|with)|versus|vs\.?|over|relative to)\b", re.IGNORECASE)

FEATURE_NAMES: tuple[str, ...] = (
    *(f"p_{r}" for r in ROLES),
    "bias",
    "first",
    "second",
    "last",
    "rel_pos",
    "rel_pos2",
    "len_short",
    "len_long",
    "words_40",
    "has_number",
    "has_percent",
    "quantities_2",
    "compared",
    "headline",
    *(f"cue_{g}" for g in _CUE_GROUPS),
    "cue_finding_2",
    "opener",
    "question",
    "colon",
    "before_own",
    "at_own",
    "after_own",
    "top_result",
    "top_method",
    "top_background",
    "top_objective",
    "result_gap",
    "method_gap",
    "background_gap",
    "result_x_number",
    "result_x_last",
    "we_start",
)


def sentence_cues(sentence: str) -> dict[str, int]:
    """How often each cue group occurs in ``sentence``."""
    counts = dict.fromkeys(_CUE_GROUPS, 0)
    for match in _CUE.finditer(sentence.lower()):
        counts[match.lastgroup or ""] += 1
    return counts


def features(
    sentences: Sequence[str],
    probs: np.ndarray,
    headline: Sequence[bool],
    cues: Sequence[dict[str, int]],
    quantities: Sequence[int],
) -> np.ndarray:
    """One row of `FEATURE_NAMES` per sentence: ``headline`` marks quantified comparisons, ``cues`` are
    `sentence_cues`, ``quantities`` counts the amounts a sentence states (the engine's `sentence_facts`)."""
    n = len(sentences)
    if not n:
        return np.zeros((0, len(FEATURE_NAMES)))
    probs = np.asarray(probs, dtype=np.float64)
    own = next((i for i, c in enumerate(cues) if c["own"]), -1)
    rows = []
    for i, sentence in enumerate(sentences):
        rel = i / max(n - 1, 1)
        words = sentence.count(" ") + 1
        c = cues[i]
        rows.append(
            (
                1.0,
                i == 0,
                i == 1,
                i == n - 1,
                rel,
                rel * rel,
                words < 12,
                words >= 35,
                words / 40.0,
                quantities[i] > 0,
                "%" in sentence,
                quantities[i] >= 2,
                bool(_COMPARED.search(sentence)),
                bool(headline[i]),
                *(c[g] > 0 for g in _CUE_GROUPS),
                c["finding"] + c["outcome"] >= 2,
                bool(_OPENER.match(sentence)),
                "?" in sentence,
                ":" in sentence,
                own >= 0 and i < own,
                i == own,
                own >= 0 and i > own,
                sentence.startswith(("We ", "we ")),
            )
        )
    base = np.array(rows, dtype=np.float64)
    background, objective, method, result = (ROLES.index(r) for r in ("background", "objective", "method", "result"))
    top = probs.max(axis=0)
    relative = np.column_stack(
        [
            probs[:, result] == top[result],
            probs[:, method] == top[method],
            probs[:, background] == top[background],
            probs[:, objective] == top[objective],
            probs[:, result] - top[result],
            probs[:, method] - top[method],
            probs[:, background] - top[background],
            probs[:, result] * base[:, 9],
            probs[:, result] * base[:, 3],
        ]
    )
    # Column order follows FEATURE_NAMES: marginals, the per-sentence rows (we_start last), then the relative ones.
    return np.hstack([probs, base[:, :-1], relative, base[:, -1:]])


class FieldSelectors:
    """One weight vector per field of `FIELDS`; `scores` rates every sentence for one field."""

    def __init__(self, weights: dict[str, np.ndarray]):
        for name in FIELDS:
            if name not in weights or weights[name].shape != (len(FEATURE_NAMES),):
                raise ModelFileError(f"field selector {name!r} is missing or has the wrong shape")
        self.weights = weights
        self.matrix = np.column_stack([weights[name] for name in FIELDS])

    def scores(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Per field, a score per sentence (rows of `features`)."""
        s = x @ self.matrix
        return {name: s[:, j] for j, name in enumerate(FIELDS)}

    def save(self, directory: Path) -> None:
        weights = {name: [round(float(w), 6) for w in self.weights[name]] for name in FIELDS}
        save_weights(directory / FIELDS_FILE, FEATURE_NAMES, weights)

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> FieldSelectors:
        weights = load_weights(directory / FIELDS_FILE, FEATURE_NAMES, "field selectors")
        if not isinstance(weights, dict):
            raise ModelFileError(f"{directory}/{FIELDS_FILE}: weights must be one list per field")
        return cls({name: np.array(weights.get(name, []), dtype=np.float64) for name in FIELDS})


@lru_cache(maxsize=1)
def default_selectors() -> FieldSelectors:
    return FieldSelectors.load(MODEL_DIR)

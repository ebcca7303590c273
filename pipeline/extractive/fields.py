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

import json
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
    r"as (?:solid )?evidence|outperform\w*|surpass\w*|beat\w*|state-of-the-art|sota|(?:analys[ie]s|simulations?|"
    r"measurements?|observations?|calculations?|data|computations?) (?:show|shows|reveal|reveals|indicate|"
    r"indicates|suggest|suggests|confirm|confirms|demonstrate|demonstrates|yield|yields))|"
    r"(?P<claim>(?:we|they) (?:\w+ly |then |also |further |here |first |thereby )?(?:prove|establish|measure|"
    r"constrain|report|detect|discover|rule out|exclude|place|set|derive|obtain|determine|estimate|compute|"
    r"calculate|identify|infer|uncover|extract)\w*|(?:is|are|was|were) (?:\w+ly )?(?:found|shown|proven|proved|"
    r"measured|detected|observed|determined|constrained|established|excluded)|we find)|"
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
    r"(?P<wrap>overall|in conclusion|these (?:results|findings)|our (?:results|findings)|highlight\w*|"
    r"underscor\w*)|"
    r"(?P<measure>upper limits?|lower limits?|upper bounds?|lower bounds?|constraints? on|limits? on|bounds? on|"
    r"confidence level|c\.l|significance|sigma|uncertaint\w*|precision of|error bars?|at the \w+ level)|"
    r"(?P<conclusion>pav\w* the way|lay\w* the (?:foundation|groundwork)|foundations? for|groundwork|opens? (?:up )?"
    r"(?:new )?(?:avenues|the door|possibilities|a path|the way|new)|paths? (?:toward|towards|for)|promising|"
    r"future (?:work|research|studies|investigations)|can be (?:used|applied|extended)|applicab\w*|"
    r"useful (?:for|tool)|offers? (?:a |new )?(?:capabilit\w*|tools?|framework|platform)|provid\w* (?:a )?"
    r"(?:framework|tool|platform|basis|foundation)|implications? (?:for|of)|insights? into|shed\w* light|"
    r"potential (?:for|to)|implications?)"
    r")\b"
)
_CUE_GROUPS = ("finding", "claim", "outcome", "gap", "own", "how", "eval", "survey", "wrap", "measure", "conclusion")
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
    "title_share",
    "plus_minus",
    "conclusion_only",
)
_TITLE_WORD = re.compile(r"[a-z][a-z0-9-]{3,}")


def _title_words(text: str) -> set[str]:
    return set(_TITLE_WORD.findall(text.lower()))


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
    title: str = "",
) -> np.ndarray:
    """One row of `FEATURE_NAMES` per sentence: ``headline`` marks quantified comparisons, ``cues`` are
    `sentence_cues`, ``quantities`` counts the amounts a sentence states (the engine's `sentence_facts`);
    ``title`` gives each sentence's share of the title's words."""
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
    heading = _title_words(title)
    extra = np.array(
        [
            (
                len(heading & _title_words(sentence)) / len(heading) if heading else 0.0,
                "±" in sentence or "\\pm" in sentence,
                # A closing implication ("paves the way", "insights into") that reports nothing itself.
                c["conclusion"] > 0 and not (c["finding"] or c["claim"] or quantities[i]),
            )
            for i, (sentence, c) in enumerate(zip(sentences, cues))
        ],
        dtype=np.float64,
    )
    # Column order follows FEATURE_NAMES: marginals, the per-sentence rows (we_start last), the relative ones,
    # then the title share and the sciences' measurements.
    return np.hstack([probs, base[:, :-1], relative, base[:, -1:], extra])


# The lexical part: the role model's word, word-pair and opening features of a sentence (`roles.sentence_features`)
# that carry a weight per field. Only these kinds: position and length are the dense features' business.
LEXICAL_KINDS = ("w=", "b=", "f1=", "f2=", "f3=")


class FieldSelectors:
    """One weight vector per field of `FIELDS` over `FEATURE_NAMES`, plus optional lexical weights (one row per
    feature string of ``lexicon``, one column per field); `scores` rates every sentence for each field."""

    def __init__(
        self,
        weights: dict[str, np.ndarray],
        lexicon: dict[str, int] | None = None,
        lexical: np.ndarray | None = None,
    ):
        for name in FIELDS:
            if name not in weights or weights[name].shape != (len(FEATURE_NAMES),):
                raise ModelFileError(f"field selector {name!r} is missing or has the wrong shape")
        self.weights = weights
        self.matrix = np.column_stack([weights[name] for name in FIELDS])
        self.lexicon = lexicon or {}
        self.lexical = lexical if lexical is not None else np.zeros((len(self.lexicon), len(FIELDS)))
        if self.lexical.shape != (len(self.lexicon), len(FIELDS)):
            raise ModelFileError("field selectors' lexical weights do not match their lexicon")

    def lexical_scores(self, feats: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, fields): the sum of each sentence's lexical weights (``feats``: `roles.sentence_features`)."""
        out = np.zeros((len(feats), len(FIELDS)))
        if not self.lexicon:
            return out
        get = self.lexicon.get
        flat: list[int] = []
        owner: list[int] = []
        for i, row in enumerate(feats):
            ids = [j for j in map(get, row) if j is not None]
            flat += ids
            owner += [i] * len(ids)
        if flat:  # one gather and one reduce, as the role model's emissions
            np.add.at(out, np.array(owner), self.lexical[np.array(flat)])
        return out

    def scores(self, x: np.ndarray, feats: Sequence[Sequence[str]] | None = None) -> dict[str, np.ndarray]:
        """Per field, a score per sentence (rows of `features`; ``feats`` adds the lexical weights)."""
        s = x @ self.matrix
        if feats is not None and self.lexicon:
            s = s + self.lexical_scores(feats)
        return {name: s[:, j] for j, name in enumerate(FIELDS)}

    def save(self, directory: Path) -> None:
        weights = {name: [round(float(w), 6) for w in self.weights[name]] for name in FIELDS}
        save_weights(directory / FIELDS_FILE, FEATURE_NAMES, weights)
        if self.lexicon:
            data = json.loads((directory / FIELDS_FILE).read_text(encoding="utf-8"))
            names = sorted(self.lexicon, key=self.lexicon.__getitem__)
            data["lexicon"] = names
            data["lexical"] = {f: [round(float(w), 6) for w in self.lexical[:, j]] for j, f in enumerate(FIELDS)}
            (directory / FIELDS_FILE).write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> FieldSelectors:
        weights = load_weights(directory / FIELDS_FILE, FEATURE_NAMES, "field selectors")
        if not isinstance(weights, dict):
            raise ModelFileError(f"{directory}/{FIELDS_FILE}: weights must be one list per field")
        data = json.loads((directory / FIELDS_FILE).read_text(encoding="utf-8"))
        names = data.get("lexicon") or []
        lexical = None
        if names:
            try:
                lexical = np.column_stack([np.array(data["lexical"][f], dtype=np.float64) for f in FIELDS])
            except (KeyError, TypeError, ValueError) as exc:
                raise ModelFileError(f"{directory}/{FIELDS_FILE}: bad lexical weights ({exc})") from exc
        dense = {name: np.array(weights.get(name, []), dtype=np.float64) for name in FIELDS}
        return cls(dense, {n: i for i, n in enumerate(names)}, lexical)


@lru_cache(maxsize=1)
def default_selectors() -> FieldSelectors:
    return FieldSelectors.load(MODEL_DIR)

"""Dataset and metric names as one key across papers, and which way a metric is better.

Papers write one benchmark many ways ("ImageNet-1K", "ImageNet-1k", "ImageNet 1k", "imagenet1k") and one metric
many ways ("top-1 acc.", "Top-1 Accuracy", "top1 accuracy"). A key is the name folded to lower-case letters and
digits only, after a few word-level rules: a trailing "(ABBR)" names the metric by its abbreviation ("Multi-Object
Tracking Accuracy (MOTA)" is MOTA), "acc."/"err." are accuracy/error, "the … dataset/benchmark" is the name alone,
"256 × 256" is 256x256, and a short curated table of synonyms ("mean IoU" is mIoU, "word error rate" is WER).
Users add their own synonyms and directions in config.toml (``[leaderboard]``, `pipeline.sections.Leaderboard`).

The direction table is small on purpose (docs/leaderboards.md lists it): a metric is lower-is-better when its key
is in `LOWER_KEYS`, or its last word is one of `LOWER_WORDS` ("training time", "test error", "peak memory"), unless a
word says the number is a gain ("error reduction", "latency speedup"). Everything else is higher-is-better.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

LOWER = "lower"
HIGHER = "higher"

_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # runs of letters and digits: every punctuation mark separates
_BY = re.compile(r"(?<=\d)\s*(?:×|\*|times|x)\s*(?=\d)", re.IGNORECASE)  # "256 × 256", "256times256": 256x256
_ABBREVIATION = re.compile(r"^(.*\S)\s*\(\s*([A-Za-z][A-Za-z0-9@\-]{1,11})\s*\)\s*$")

# Word-level abbreviations a metric is written with ("top-1 acc.", "val. err.").
_METRIC_WORDS = {"acc": "accuracy", "err": "error", "perf": "performance", "sim": "similarity"}
# Generic words around a dataset's name: "the MMLU benchmark" is MMLU.
_DATASET_LEADING = {"the"}
_DATASET_TRAILING = {"dataset", "datasets", "benchmark", "benchmarks", "corpus", "suite"}

# Synonyms: key → the key it means (the right side is the key boards are grouped under).
METRIC_SYNONYMS: dict[str, str] = {
    "top1": "top1accuracy",
    "top1acc": "top1accuracy",
    "top5": "top5accuracy",
    "f1score": "f1",
    "f1measure": "f1",
    "fscore": "f1",
    "macrof1score": "macrof1",
    "microf1score": "microf1",
    "meaniou": "miou",
    "meanintersectionoverunion": "miou",
    "frechetinceptiondistance": "fid",
    "fréchetinceptiondistance": "fid",
    "frechetvideodistance": "fvd",
    "fréchetvideodistance": "fvd",
    "worderrorrate": "wer",
    "charactererrorrate": "cer",
    "ppl": "perplexity",
    "exactmatch": "em",
    "exactmatchaccuracy": "em",
    "meanabsoluteerror": "mae",
    "meansquarederror": "mse",
    "meansquareerror": "mse",
    "rootmeansquarederror": "rmse",
    "rootmeansquareerror": "rmse",
    "peaksignaltonoiseratio": "psnr",
    "structuralsimilarity": "ssim",
    "structuralsimilarityindex": "ssim",
    "rocauc": "auroc",
    "aucroc": "auroc",
    "areaundertheroccurve": "auroc",
    "areaunderthereceiveroperatingcharacteristiccurve": "auroc",
    "meanaverageprecision": "map",
    "successrate": "sr",
    "negativeloglikelihood": "nll",
    "equalerrorrate": "eer",
    "expectedcalibrationerror": "ece",
    "bitsperdimension": "bpd",
    "bitsperdim": "bpd",
}
DATASET_SYNONYMS: dict[str, str] = {}

# Lower is better: whole keys, and the last word of a metric's name.
LOWER_KEYS: frozenset[str] = frozenset(
    "fid fvd kid lpips wer cer ter mae mse rmse mape smape nll eer ece bpd perplexity chamferdistance "
    "errorrate failurerate missrate hallucinationrate falsepositiverate fpr fnr collisionrate".split()
)
LOWER_WORDS: frozenset[str] = frozenset(
    "error errors loss losses latency perplexity time runtime memory consumption usage cost costs energy distance "
    "fid wer cer mae mse rmse nll lpips ece eer".split()
)
# A word that makes the number a gain, whatever it gains on ("error reduction", "latency speedup").
GAIN_WORDS: frozenset[str] = frozenset(
    "reduction reductions decrease decreases speedup speedups gain gains improvement improvements saving "
    "savings".split()
)


def _words(name: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", name).casefold())


def _abbreviated(name: str) -> str:
    """ "Multi-Object Tracking Accuracy (MOTA)" → "MOTA": a trailing parenthesis with two or more capitals names
    the metric by its abbreviation, which other papers write alone."""
    found = _ABBREVIATION.match(name)
    if found and sum(ch.isupper() for ch in found.group(2)) >= 2:
        return found.group(2)
    return name


@lru_cache(maxsize=65536)
def _metric_words(name: str) -> tuple[str, ...]:
    return tuple(_METRIC_WORDS.get(word, word) for word in _words(_abbreviated(" ".join(name.split()))))


@lru_cache(maxsize=65536)
def raw_metric_key(name: str) -> str:
    """A metric's key before synonyms: lower-case letters and digits, abbreviations expanded."""
    return "".join(_metric_words(name))


@lru_cache(maxsize=65536)
def raw_dataset_key(name: str) -> str:
    """A dataset's key before synonyms: lower-case letters and digits, "the … benchmark" dropped."""
    words = _words(_BY.sub("x", " ".join(name.split())))
    while len(words) > 1 and words[0] in _DATASET_LEADING:
        words = words[1:]
    while len(words) > 1 and words[-1] in _DATASET_TRAILING:
        words = words[:-1]
    return "".join(words)


@dataclass(frozen=True)
class Names:
    """The key of a dataset or metric and a metric's direction, with a reader's additions from config.toml
    (``[leaderboard]``): synonyms (any name → the name it means) and metrics lower or higher is better."""

    metric_synonyms: Mapping[str, str] = field(default_factory=lambda: METRIC_SYNONYMS)
    dataset_synonyms: Mapping[str, str] = field(default_factory=lambda: DATASET_SYNONYMS)
    lower: frozenset[str] = frozenset()
    higher: frozenset[str] = frozenset()

    @classmethod
    def of(cls, config: object | None = None) -> Names:
        """The built-in table extended by a `pipeline.sections.Leaderboard` (or anything with its fields)."""
        synonyms = dict(getattr(config, "synonyms", None) or {})
        lower = frozenset(getattr(config, "lower_is_better", None) or ())
        higher = frozenset(getattr(config, "higher_is_better", None) or ())
        metric = {**METRIC_SYNONYMS, **{raw_metric_key(k): raw_metric_key(v) for k, v in synonyms.items()}}
        dataset = {**DATASET_SYNONYMS, **{raw_dataset_key(k): raw_dataset_key(v) for k, v in synonyms.items()}}
        return cls(metric, dataset, _metric_keys(lower, metric), _metric_keys(higher, metric))

    @staticmethod
    @lru_cache(maxsize=1)
    def default() -> Names:
        """The built-in tables alone."""
        return Names()

    def board_key(self, dataset: str, metric: str, unit: str) -> str:
        """What one leaderboard is: ``dataset key|metric key|unit family`` ("imagenet1k|top1accuracy|")."""
        return f"{self.dataset(dataset)}|{self.metric(metric)}|{unit_family(unit)}"

    def metric(self, name: str) -> str:
        """The key boards group a metric under: "Top-1 Acc." and "top1 accuracy" are both ``top1accuracy``."""
        key = raw_metric_key(name)
        return self.metric_synonyms.get(key, key)

    def dataset(self, name: str) -> str:
        """The key boards group a dataset under: "ImageNet-1K", "ImageNet 1k" and "imagenet1k" are one."""
        key = raw_dataset_key(name)
        return self.dataset_synonyms.get(key, key)

    def direction(self, name: str) -> str:
        """`LOWER` or `HIGHER`: which way the metric ``name`` is better (the reader's table first)."""
        key = self.metric(name)
        if key in self.lower:
            return LOWER
        if key in self.higher:
            return HIGHER
        return builtin_direction(_metric_words(name), key)


_SHARE = frozenset({"", "%", "pts", "points", "point", "pp"})  # a share, written with its sign or without


def unit_family(unit: str) -> str:
    """The unit a board is kept to: a share ("%", none, "points") is one, any other unit is itself, lower-cased:
    "85.3%" and "85.3" sit on one board, "12 ms" and "0.5 s" of latency do not."""
    unit = " ".join(unit.split()).lower()
    return "" if unit in _SHARE else unit


def builtin_direction(words: Iterable[str], key: str) -> str:
    """The curated table: `LOWER_KEYS`, or a last word in `LOWER_WORDS` with no word of `GAIN_WORDS`."""
    words = tuple(words)
    if key in LOWER_KEYS:
        return LOWER
    if words and words[-1] in LOWER_WORDS and not GAIN_WORDS.intersection(words):
        return LOWER
    return HIGHER


def _metric_keys(names: Iterable[str], synonyms: Mapping[str, str]) -> frozenset[str]:
    keys = (raw_metric_key(name) for name in names)
    return frozenset(synonyms.get(key, key) for key in keys)


def builtin_table() -> dict[str, list[str]]:
    """The built-in direction table, for docs and ``summarize leaderboard --directions``."""
    return {"lower_keys": sorted(LOWER_KEYS), "lower_last_words": sorted(LOWER_WORDS), "gain_words": sorted(GAIN_WORDS)}

"""Named facts an abstract states: tasks, datasets and metrics. Precision over recall: empty when unsure."""

from __future__ import annotations

import re

_METRICS = (
    "accuracy",
    "top-1 accuracy",
    "top-5 accuracy",
    "precision",
    "recall",
    "F1",
    "F1 score",
    "BLEU",
    "ROUGE",
    "ROUGE-L",
    "METEOR",
    "CIDEr",
    "SPICE",
    "FID",
    "IS",
    "Inception Score",
    "CLIPScore",
    "CLIP score",
    "LPIPS",
    "PSNR",
    "SSIM",
    "mAP",
    "AP",
    "IoU",
    "mIoU",
    "AUC",
    "AUROC",
    "AUPRC",
    "perplexity",
    "WER",
    "CER",
    "MSE",
    "RMSE",
    "MAE",
    "NDCG",
    "MRR",
    "Hits@1",
    "Hits@10",
    "exact match",
    "EM",
    "pass@1",
    "win rate",
    "success rate",
    "FVD",
    "KID",
    "Dice",
    "Spearman",
    "Pearson",
    "latency",
    "throughput",
)
_CASE_SENSITIVE = {"IS", "AP", "EM", "F1", "FID", "MAE", "MSE", "WER", "CER", "KID", "FVD", "Dice"}


def _vocabulary(names: tuple[str, ...], flags: int, suffix: str = "") -> re.Pattern[str]:
    """One alternation for a whole vocabulary: a single pass over the text instead of one per name."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({alternatives}){suffix}(?![\w-])", flags)


def _find(text: str, patterns: list[re.Pattern[str]], canonical: dict[str, str]) -> list[str]:
    found = {canonical[m.group(1).lower()] for p in patterns for m in p.finditer(text)}
    return [name for name in canonical.values() if name in found]


_METRIC_NAMES = {m.lower(): m for m in _METRICS}
_METRIC_PATTERNS = [
    _vocabulary(tuple(m for m in _METRICS if m in _CASE_SENSITIVE), 0),
    _vocabulary(tuple(m for m in _METRICS if m not in _CASE_SENSITIVE), re.IGNORECASE),
]

_TASKS = (
    "image classification",
    "object detection",
    "semantic segmentation",
    "instance segmentation",
    "image segmentation",
    "few-shot segmentation",
    "image generation",
    "text-to-image generation",
    "video generation",
    "image editing",
    "image captioning",
    "visual question answering",
    "question answering",
    "machine translation",
    "summarization",
    "text classification",
    "sentiment analysis",
    "named entity recognition",
    "relation extraction",
    "information retrieval",
    "speech recognition",
    "language modeling",
    "code generation",
    "reasoning",
    "causal inference",
    "causal discovery",
    "anomaly detection",
    "domain adaptation",
    "domain generalization",
    "few-shot learning",
    "zero-shot learning",
    "continual learning",
    "reinforcement learning",
    "representation learning",
    "image retrieval",
    "pose estimation",
    "depth estimation",
    "3D reconstruction",
    "novel view synthesis",
    "super-resolution",
    "denoising",
    "inpainting",
    "tracking",
    "action recognition",
    "recommendation",
    "graph classification",
    "link prediction",
    "node classification",
    "time series forecasting",
    "model editing",
    "knowledge editing",
    "interpretability",
    "attribution",
    "data augmentation",
    "image-text matching",
    "compositional reasoning",
    "commonsense reasoning",
    "text-to-video generation",
)
_TASK_NAMES = {t.lower(): t for t in _TASKS}
_TASK_PATTERNS = [_vocabulary(_TASKS, re.IGNORECASE, suffix="s?")]

# A name: a capitalised or digit-bearing token, optionally hyphenated, up to three tokens.
_TOKEN = r"[A-Z0-9][\w+-]*(?:\.\d+)?"
_NAME = rf"(?:{_TOKEN}|[a-z]+-?\d+[\w-]*)(?: {_TOKEN}){{0,2}}"
_DATASET_AFTER = re.compile(rf"\b({_NAME})\s+(?:dataset|benchmark|corpus)s?\b")
_DATASET_LIST = re.compile(
    rf"\b(?:on|using|across|from)\s+(?:the\s+)?((?:{_NAME})(?:\s*,\s*(?:{_NAME}))*(?:,?\s+and\s+(?:{_NAME})))"
    r"\s+(?:datasets|benchmarks|corpora)\b"
)
_NOT_NAMES = {"The", "This", "Our", "We", "These", "A", "An", "In", "On", "Large", "New", "Several", "Two", "Three"}


def _clean_name(name: str) -> str | None:
    name = name.strip(" ,.;:")
    first = name.split()[0] if name.split() else ""
    if (
        not name
        or name.replace(" ", "").isdigit()
        or first in _NOT_NAMES
        or len(name) < 2
        or name.lower() == name
        and not re.search(r"\d", name)
    ):
        return None
    return name


def find_metrics(text: str) -> list[str]:
    return _find(text, _METRIC_PATTERNS, _METRIC_NAMES)


def find_tasks(text: str) -> list[str]:
    return _find(text, _TASK_PATTERNS, _TASK_NAMES)


def find_datasets(text: str) -> list[str]:
    found: list[str] = []
    for match in _DATASET_LIST.finditer(text):
        for part in re.split(r"\s*,\s*|\s+and\s+", match.group(1)):
            name = _clean_name(part)
            if name and name not in found:
                found.append(name)
    for match in _DATASET_AFTER.finditer(text):
        name = _clean_name(match.group(1))
        if name and name not in found:
            found.append(name)
    return found

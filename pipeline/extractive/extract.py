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
# One name per metric: a spelled-out name is listed as its short form.
_METRIC_ALIASES = {"Inception Score": "IS", "CLIP score": "CLIPScore", "F1 score": "F1", "exact match": "EM"}


_WORDS = re.compile(r"[a-z0-9]+")


class _Vocabulary:
    """Known names, found by whole-word match. A name with a capital letter ("mAP", "IS", "BLEU", "Dice") matches
    only with its own case ("map", "is", "dice" are words); an all-lowercase one ("accuracy") in any case.
    ``aliases`` lists a spelled-out name as its short form, once. ``context`` makes an ambiguous name count only
    where a pattern around it says it is the task ("denoising steps" of a diffusion model are not a task).
    Cheap first: a name is searched for only when all its words occur in the text (a set lookup), so most of the
    vocabulary costs nothing per abstract."""

    def __init__(
        self,
        names: tuple[str, ...],
        *,
        plural: bool = False,
        aliases: dict[str, str] | None = None,
        context: dict[str, str] | None = None,
    ):
        suffix = "s?" if plural else ""
        self.plural = plural
        self.aliases = aliases or {}
        self.entries = []
        for name in names:
            exact = name != name.lower()
            body = re.escape(name if exact else name.lower()) + suffix
            if context and name in context:
                body = "(?:" + context[name].format(name=body) + ")"
            pattern = re.compile(rf"(?<![\w-]){body}(?![\w-])", 0 if exact else re.IGNORECASE)
            self.entries.append((name, frozenset(_WORDS.findall(name.lower())), pattern))

    def find(self, text: str) -> list[str]:
        lowered = text.lower()
        words = set(_WORDS.findall(lowered))
        if self.plural:
            words |= {w[:-1] for w in words if w.endswith("s")}
        found: list[str] = []
        for name, needed, pattern in self.entries:
            if needed <= words and pattern.search(text):
                canonical = self.aliases.get(name, name)
                if canonical not in found:
                    found.append(canonical)
        return found


_METRIC_VOCABULARY = _Vocabulary(_METRICS, aliases=_METRIC_ALIASES)

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
# Words that name a task only in a task's context: "image denoising", not a diffusion model's "denoising steps";
# "attribution methods", not "attribution metadata".
_TASK_CONTEXT = {
    "denoising": r"(?:(?<=image )|(?<=video )|(?<=speech )|(?<=audio )|(?<=signal )){name}|"
    r"{name}(?= (?:tasks?|benchmarks?))",
    "attribution": r"(?:(?<=feature )|(?<=pixel )|(?<=input )|(?<=saliency )|(?<=visual )){name}|"
    r"{name}(?= (?:methods?|maps?|techniques?|scores?|tasks?|benchmarks?))",
}
_TASK_VOCABULARY = _Vocabulary(_TASKS, plural=True, context=_TASK_CONTEXT)

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
    return _METRIC_VOCABULARY.find(text)


def find_tasks(text: str) -> list[str]:
    return _TASK_VOCABULARY.find(text)


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

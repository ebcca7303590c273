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
    "attribution": r"(?:(?<=feature )|(?<=pixel )|(?<=input )|(?<=saliency )|(?<=visual )|(?<=image )){name}|"
    r"{name}(?= (?:methods?|maps?|techniques?|scores?|tasks?|benchmarks?|algorithms?|problems?))",
}
_TASK_VOCABULARY = _Vocabulary(_TASKS, plural=True, context=_TASK_CONTEXT)
# "reasoning" names a task where the title says it or a tasks context does ("reasoning tasks", "the reasoning
# ability of", "mathematical reasoning"); "requires structured reasoning" or "in-depth reasoning with chain-of-
# thought" says how, not what.
_GENERIC = {
    "reasoning": r"{name}(?= (?:tasks?|benchmarks?|abilit(?:y|ies)|capabilit(?:y|ies)|skills?|models?|traces?|"
    r"chains?|steps?|process(?:es)?|paths?|problems?))|(?:mathematical|math|logical|spatial|temporal|visual|"
    r"causal|moral|ethical|numerical|scientific|multi-step|multi-hop|multimodal|inductive|deductive|transductive|"
    r"complex|step-by-step|chain-of-thought|cot)(?: \(cot\))? {name}",
}
_TASK_IN_CONTEXT = _Vocabulary(_TASKS, plural=True, context={**_TASK_CONTEXT, **_GENERIC})
_LONGEST_FIRST = sorted(range(len(_TASKS)), key=lambda i: -len(_TASKS[i]))
# In a background sentence, a task naming other work's systems ("image generation models are capable of ...").
_OTHERS = re.compile(r"\s+(?:models?|systems?|methods?|approaches|techniques|tools)\b", re.I)
# After these, a task is an example of where a method applies, not what the paper does.
_EXAMPLES = re.compile(r"\b(?:applicable to|can be applied to|such as|e\.g\.|for example|for instance)", re.I)


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


def find_tasks(text: str, title: str = "", roles: list[str] | None = None) -> list[str]:
    """The tasks the paper works on, each a fact the title or the abstract states of the paper: a name in the
    title or a sentence of ``text``, except where it names other work's systems in a background sentence
    (``roles``, one per sentence, from the roles model; "many image generation models can produce harmful
    content" is the field's problem, not the paper's task), where a longer name found holds it ("question answering" in
    "visual question answering"), where it is an example after "such as" or "applicable to", and
    "reasoning" without a tasks context ("requires structured reasoning" says how, not what)."""
    from pipeline.extractive.text import split_sentences

    found = [name for name, _ in _in_sentence(title, _TASK_VOCABULARY)]
    for k, sentence in enumerate(split_sentences(text)):
        background = roles is not None and k < len(roles) and roles[k] == "background"
        for name, end in _in_sentence(sentence):
            if background and k > 0 and _OTHERS.match(sentence, end):
                continue  # "many image generation models can produce harmful content": others' systems
            if name not in found:
                found.append(name)
    # the vocabulary's order, whatever the sentences'; "reasoning" is said by "commonsense reasoning" when found
    said = {name for name in found if name in _GENERIC and any(name in other and other != name for other in found)}
    return [name for name in _TASKS if name in found and name not in said]


def _in_sentence(sentence: str, vocabulary: _Vocabulary = _TASK_IN_CONTEXT) -> list[tuple[str, int]]:
    """(name, end) of each task named in ``sentence``, longest names first, each span counted once."""
    words = set(_WORDS.findall(sentence.lower()))
    words |= {w[:-1] for w in words if w.endswith("s")}
    cue = _EXAMPLES.search(sentence)
    masked, out = sentence, []
    for i in _LONGEST_FIRST:
        name, needed, pattern = vocabulary.entries[i]
        if not needed <= words:
            continue
        for match in pattern.finditer(masked):
            masked = masked[: match.start()] + "\x00" * (match.end() - match.start()) + masked[match.end() :]
            if cue is None or match.start() < cue.start():
                out.append((name, match.end()))
    return out


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

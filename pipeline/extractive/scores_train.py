"""Trains the scores extractor (`pipeline.extractive.scores`) on the hand-labelled train split.

    python -m pipeline.extractive.scores_train            # writes weights/scores.npy and weights/scores.json
    python -m pipeline.extractive.scores_train --cv 5     # 5-fold cross-validation on train, writes nothing

Each candidate number of a train abstract is a positive for the ``result`` model when a labelled score of the
same sentence has its digits; the ``own`` and ``delta`` models learn from the positives' labels. Logistic
regression with an L2 penalty, full-batch gradient descent from zero: deterministic. The metric lexicon is the
curated list plus the train labels' metric names (short ones); the benchmark list likewise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.evaluate.scores import ScoredPaper, load_scores, score_predictions
from pipeline.extractive import scores as sx
from pipeline.files import write_bytes_atomic, write_text_atomic

TRAIN = Path(__file__).resolve().parents[2] / "data" / "scores" / "train.json"
L2 = 0.02
STEPS = 600
RATE = 0.5

CURATED_METRICS = (
    "accuracy top-1 accuracy top-5 accuracy precision recall f1 f1 score f1-score macro f1 micro f1 bleu rouge "
    "rouge-l meteor cider fid lpips psnr ssim map iou miou auc auroc auprc perplexity wer cer mse rmse mae ndcg "
    "mrr exact match pass@1 win rate success rate attack success rate error rate error latency throughput "
    "speedup memory usage memory training time inference time inference speed runtime energy consumption cost "
    "dice score kappa correlation spearman pearson r2 hit rate reward return coverage recall@1 recall@5 "
    "recall@10 top-1 error sensitivity specificity mota hota spl ece calibration error"
).split(" ")
CURATED_METRIC_PHRASES = (
    "top-1 accuracy",
    "top-5 accuracy",
    "f1 score",
    "macro f1",
    "micro f1",
    "exact match",
    "win rate",
    "success rate",
    "attack success rate",
    "error rate",
    "memory usage",
    "training time",
    "inference time",
    "inference speed",
    "energy consumption",
    "dice score",
    "hit rate",
    "top-1 error",
    "calibration error",
)
CURATED_DATASETS = (
    "ImageNet",
    "ImageNet-1K",
    "CIFAR-10",
    "CIFAR-100",
    "COCO",
    "MMLU",
    "GSM8K",
    "MATH",
    "HumanEval",
    "MBPP",
    "SWE-bench",
    "SWE-bench Verified",
    "AIME",
    "GPQA",
    "ARC",
    "HellaSwag",
    "SQuAD",
    "GLUE",
    "SuperGLUE",
    "LibriSpeech",
    "KITTI",
    "nuScenes",
    "Waymo Open",
    "ScanNet",
    "ADE20K",
    "Cityscapes",
    "PASCAL VOC",
    "MS MARCO",
    "BEIR",
    "HotpotQA",
    "MuSiQue",
    "PopQA",
    "TriviaQA",
    "NQ",
    "WikiText-103",
    "MT-Bench",
    "AlpacaEval",
    "LongBench",
    "VQAv2",
    "TextVQA",
    "DocVQA",
    "ChartQA",
    "MMMU",
    "MathVista",
    "GenEval",
    "Countdown",
)


def _single_words(words: list[str]) -> list[str]:
    return [w for w in words if " " not in w]


def lexicons(data: list[ScoredPaper]) -> tuple[list[str], list[str]]:
    metrics = set(_single_words(CURATED_METRICS)) | set(CURATED_METRIC_PHRASES)
    datasets = set(CURATED_DATASETS)
    for paper in data:
        low = paper.abstract.lower()
        for t in paper.tuples:
            metric = " ".join(str(t.get("metric") or "").lower().split())
            if metric and len(metric.split()) <= 4 and metric in low and not metric[0].isdigit():
                metrics.add(metric)
            dataset = " ".join(str(t.get("dataset") or "").split())
            if dataset and dataset in paper.abstract and len(dataset.split()) <= 4:
                datasets.add(dataset)
    by_length = lambda names: sorted(names, key=lambda n: (-len(n), n))  # noqa: E731
    return by_length(metrics), by_length(datasets)


def examples(data: list[ScoredPaper]) -> tuple[list[list[int]], np.ndarray, list[int], np.ndarray]:
    """Feature rows of every candidate, their result labels, and for the positives (indices) own/delta labels."""
    rows: list[list[int]] = []
    result: list[float] = []
    positive: list[int] = []
    labels: list[tuple[float, float]] = []
    for paper in data:
        gold: dict[int, list[dict[str, Any]]] = {}
        for t in paper.tuples:
            gold.setdefault(int(t["sentence"]), []).append(t)
        for i, _text, q, row in sx.candidates(paper.sentences, title=paper.title):
            match = next((t for t in gold.get(i, []) if sx.digits_of(t["value"]) == q.digits), None)
            rows.append(row)
            result.append(1.0 if match else 0.0)
            if match:
                gold[i].remove(match)
                positive.append(len(rows) - 1)
                labels.append((float(bool(match["own"])), float(match["kind"] == "delta")))
    return rows, np.array(result), positive, np.array(labels).reshape(-1, 2)


def fit(rows: list[list[int]], y: np.ndarray) -> np.ndarray:
    """Logistic regression weights (DIM,) over hashed binary features."""
    x = np.zeros((len(rows), sx.DIM))
    for r, row in enumerate(rows):
        np.add.at(x[r], row, 1.0)
    w = np.zeros(sx.DIM)
    if not len(rows):
        return w
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        w -= RATE * (x.T @ (p - y) / len(rows) + L2 * w)
    return w


def train(data: list[ScoredPaper]) -> sx.ScoreModel:
    rows, result, positive, labels = examples(data)
    chosen = [rows[k] for k in positive]
    weights = np.stack([fit(rows, result), fit(chosen, labels[:, 0]), fit(chosen, labels[:, 1])])
    metrics, datasets = lexicons(data)
    return sx.ScoreModel(weights.astype(np.float32), tuple(metrics), tuple(datasets))


def predict(model: sx.ScoreModel, data: list[ScoredPaper]) -> list[list[dict[str, Any]]]:
    return [sx.extract_scores(p.title, p.sentences, model) for p in data]


def cross_validate(data: list[ScoredPaper], folds: int) -> dict[str, Any]:
    predictions: list[list[dict[str, Any]]] = [[] for _ in data]
    for k in range(folds):
        held = [i for i in range(len(data)) if i % folds == k]
        model = train([p for i, p in enumerate(data) if i % folds != k])
        for i, found in zip(held, predict(model, [data[i] for i in held]), strict=True):
            predictions[i] = found
    return score_predictions(data, predictions)


def save(model: sx.ScoreModel, directory: Path = sx.WEIGHTS_DIR) -> None:
    import io

    buffer = io.BytesIO()
    np.save(buffer, model.weights)
    write_bytes_atomic(directory / "scores.npy", buffer.getvalue())
    meta = {
        "trained_on": "data/scores/train.json",
        "dim": sx.DIM,
        "models": list(sx.MODELS),
        "metrics": list(model.metrics),
        "datasets": list(model.datasets),
    }
    write_text_atomic(directory / "scores.json", json.dumps(meta, indent=0, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=TRAIN)
    parser.add_argument("--cv", type=int, default=0, help="k-fold cross-validation on the data; writes nothing")
    args = parser.parse_args(argv)
    data = load_scores(args.data)
    if args.cv:
        print(json.dumps(cross_validate(data, args.cv)))
        return
    model = train(data)
    save(model)
    print(json.dumps({"train": score_predictions(data, predict(model, data))}))


if __name__ == "__main__":
    main()

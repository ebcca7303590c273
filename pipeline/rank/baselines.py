"""The rankers the embedded one was chosen against, kept runnable so that docs/ranking.md's numbers can be
reproduced: ``summarize eval --ranking data/ranking --ranker NAME``. Same vectors as the embedded ranker (global
idf, sublinear tf, L2-normalised); only how the library becomes a score differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pipeline.rank.vectors import Matrix, Vocabulary, load_model, vectorize


def _vectors(library: Sequence[Any], candidates: Sequence[Any]) -> tuple[Matrix, Matrix]:
    vocabulary = Vocabulary()
    model = load_model()
    day = vectorize(candidates, vocabulary, model)
    lib = vectorize(library, vocabulary, model)
    return day.resized(len(vocabulary)), lib.resized(len(vocabulary))


def _order(candidates: Sequence[Any], scores: np.ndarray) -> list[str]:
    return [str(candidates[i]["id"]) for i in np.argsort(-scores, kind="stable")]


def centroid(library: Sequence[Any], candidates: Sequence[Any]) -> list[str]:
    """Cosine to the library's mean vector (zotero-arxiv-daily's similarity, with tf-idf for its encoder)."""
    day, lib = _vectors(library, candidates)
    return _order(candidates, day.dot(lib.mean()))


def nearest(library: Sequence[Any], candidates: Sequence[Any], k: int = 5) -> list[str]:
    """Mean cosine to the k most similar library papers."""
    day, lib = _vectors(library, candidates)
    sims = np.sort(day.similarities(lib), axis=1)[:, -k:]
    return _order(candidates, sims.mean(axis=1))


def logistic(
    library: Sequence[Any], candidates: Sequence[Any], l2: float = 1e-2, steps: int = 300, rate: float = 10.0
) -> list[str]:
    """L2-regularised logistic regression, library (positive) against the day (negative), classes balanced, by
    full-batch gradient descent (arxiv-sanity-lite trains a linear SVM the same way per tag)."""
    day, lib = _vectors(library, candidates)
    n_pos, n_neg = lib.rows, day.rows
    both = Matrix(
        np.concatenate([lib.indptr[:-1], lib.indptr[-1] + day.indptr]),
        np.concatenate([lib.indices, day.indices]),
        np.concatenate([lib.data, day.data]),
        day.width,
    )
    y = np.r_[np.ones(n_pos), np.zeros(n_neg)]
    sample = np.where(y == 1, (n_pos + n_neg) / (2 * n_pos), (n_pos + n_neg) / (2 * n_neg))
    rows = both.row_ids()
    w = np.zeros(both.width)
    b = 0.0
    for _ in range(steps):
        z = both.dot(w) + b
        g = sample * (1 / (1 + np.exp(-z)) - y)
        grad = np.bincount(both.indices, weights=both.data * g[rows], minlength=both.width) / len(y)
        w -= rate * (grad + l2 * w)
        b -= rate * g.mean()
    return _order(candidates, day.dot(w))


BASELINES: dict[str, Callable[[Sequence[Any], Sequence[Any]], list[str]]] = {
    "centroid": centroid,
    "nearest": nearest,
    "logistic": logistic,
}

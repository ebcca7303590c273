"""Papers as sparse tf-idf vectors: the words of a title and abstract, weighted by how rare they are in a large
collection of abstracts (a global idf table shipped in ``pipeline/rank/rank.json``, written by
``python -m pipeline.rank.train``), numpy only.

A vector is one row of a `Matrix` (CSR: ``indptr``, ``indices``, ``data``), L2-normalised, so a dot product of two
rows is their cosine. Columns are numbered per call (`Vocabulary`): only the words of the papers at hand exist.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.grounding import stem

MODEL_FILE = Path(__file__).resolve().with_name("rank.json")

STOP = frozenset(
    "a an the and or for with from that this these those their there then than into onto over under via using use "
    "used are was were been being has have had can could may might will would shall should our its it they them "
    "which what when where while who whom whose also such both each more most other some any all not only very is "
    "be by of on in to as at we us new based paper work propose proposed present presents introduce show shows "
    "study approach method methods results result furthermore however moreover thus here two one three first "
    "second".split()
)


def field(paper: Any, name: str, default: Any = "") -> Any:
    """``paper.name`` or ``paper[name]``: papers, corpus records, library entries and plain dicts alike."""
    if isinstance(paper, dict):
        return paper.get(name, default)
    return getattr(paper, name, default)


def paper_text(paper: Any) -> str:
    return f"{field(paper, 'title') or ''}. {field(paper, 'abstract') or ''}"


@lru_cache(maxsize=1 << 17)
def _term(word: str) -> str | None:
    if word in STOP or len(word) < 2:
        return None
    return stem(word)


def term_counts(text: str) -> Counter[str]:
    """The stemmed content words of ``text`` with their counts."""
    counts: Counter[str] = Counter()
    for word, n in Counter(words(text)).items():
        term = _term_of(word)
        if term:
            counts[term] += n
    return counts


@dataclass(frozen=True)
class IdfModel:
    idf: dict[str, float]
    unseen: float
    background: dict[str, float]  # the mean vector of the collection's abstracts (its largest weights)
    documents: int

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unseen)


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_FILE) -> IdfModel:
    """The shipped table; without one every word weighs the same and there is no background (plain overlap)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return IdfModel(
            {str(k): float(v) for k, v in data["idf"].items()},
            float(data["unseen"]),
            {str(k): float(v) for k, v in data.get("background", {}).items()},
            int(data["documents"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return IdfModel({}, 1.0, {}, 0)


class Vocabulary:
    """Column numbers for the terms met in one call."""

    def __init__(self) -> None:
        self.columns: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.columns)

    def column(self, term: str) -> int:
        index = self.columns.get(term)
        if index is None:
            index = self.columns[term] = len(self.columns)
        return index

    def dense(self, weights: dict[str, float]) -> np.ndarray:
        """A term -> weight table as a vector over these columns (terms not met here dropped)."""
        out = np.zeros(len(self.columns))
        for term, value in weights.items():
            index = self.columns.get(term)
            if index is not None:
                out[index] = value
        return out


@dataclass
class Matrix:
    """Rows of L2-normalised tf-idf vectors in CSR form."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    width: int

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def row_ids(self) -> np.ndarray:
        return np.repeat(np.arange(self.rows), np.diff(self.indptr))

    def dot(self, vector: np.ndarray) -> np.ndarray:
        """Each row's dot product with a dense vector."""
        products = self.data * vector[self.indices]
        return np.bincount(self.row_ids(), weights=products, minlength=self.rows)

    def mean(self, weights: np.ndarray | None = None) -> np.ndarray:
        """The (weighted) mean row as a dense vector."""
        if self.rows == 0:
            return np.zeros(self.width)
        per_row = np.ones(self.rows) if weights is None else np.asarray(weights, dtype=float)
        total = per_row.sum()
        if total <= 0:
            return np.zeros(self.width)
        scaled = self.data * per_row[self.row_ids()]
        return np.bincount(self.indices, weights=scaled, minlength=self.width) / total

    def resized(self, width: int) -> Matrix:
        return Matrix(self.indptr, self.indices, self.data, width)

    def strongest(self, terms: int) -> Matrix:
        """Each row cut to its ``terms`` largest weights (not renormalised): what two papers share most."""
        counts = np.diff(self.indptr)
        if counts.size == 0 or counts.max() <= terms:
            return self
        rows = self.row_ids()
        order = np.lexsort((-self.data, rows))  # by row, largest weight first
        rank_in_row = np.arange(len(order)) - self.indptr[rows[order]]
        keep = np.sort(order[rank_in_row < terms])
        indptr = np.zeros(self.rows + 1, dtype=np.int64)
        np.cumsum(np.minimum(counts, terms), out=indptr[1:])
        return Matrix(indptr, self.indices[keep], self.data[keep], self.width)

    def similarities(self, other: Matrix, batch: int = 64) -> np.ndarray:
        """Cosines of every row of ``self`` with every row of ``other`` (rows x other.rows), by posting lists:
        work in proportion to the shared words, never a dense vocabulary-wide matrix."""
        out = np.zeros((self.rows, other.rows), dtype=np.float32)
        if self.rows == 0 or other.rows == 0:
            return out
        # other's rows by column (CSC): for each term, which rows hold it and with what weight
        order = np.argsort(other.indices, kind="stable")
        post_rows = other.row_ids()[order]
        post_data = other.data[order]
        starts = np.zeros(other.width + 1, dtype=np.int64)
        np.cumsum(np.bincount(other.indices, minlength=other.width), out=starts[1:])
        for first in range(0, self.rows, batch):
            last = min(first + batch, self.rows)
            lo, hi = self.indptr[first], self.indptr[last]
            cols = self.indices[lo:hi]
            weights = self.data[lo:hi]
            local = np.repeat(np.arange(last - first), np.diff(self.indptr[first : last + 1]))
            counts = starts[cols + 1] - starts[cols]
            if counts.sum() == 0:
                continue
            # every (row of self, posting of other) pair sharing a term, flattened
            offsets = np.repeat(starts[cols] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            pair_row = np.repeat(local, counts)
            products = np.repeat(weights, counts) * post_data[offsets]
            flat = pair_row * other.rows + post_rows[offsets]
            block = np.bincount(flat, weights=products, minlength=(last - first) * other.rows)
            out[first:last] = block.reshape(last - first, other.rows)
        return out


# ASCII letters (lower-cased) and digits stay; every other byte splits, hyphens included ("self-supervised" is two
# words) and non-ASCII characters (encoded as "?"). bytes.translate is the fastest tokeniser Python has.
_SPLIT = bytes(
    (c + 32 if 65 <= c <= 90 else c) if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122) else 32 for c in range(256)
)
_TERMS: dict[bytes, str] = {}  # word -> its term ("" for a stop word, a number); bounded below


def words(text: str) -> list[bytes]:
    return text.encode("ascii", "replace").translate(_SPLIT).split()


def _term_of(word: bytes) -> str:
    term = _TERMS.get(word)
    if term is None:
        if len(_TERMS) > 500_000:
            _TERMS.clear()
        text = word.decode("ascii")
        term = _TERMS[word] = (_term(text) or "") if text[0].isalpha() else ""
    return term


def vectorize(papers: Sequence[Any], vocabulary: Vocabulary, model: IdfModel) -> Matrix:
    """Sublinear tf (1 + log tf) x idf of title + abstract, each row L2-normalised. Vectorised over the whole
    batch: one dictionary lookup per word, the counting in numpy."""
    columns = vocabulary.columns
    n_rows = len(papers)
    per_paper = [words(paper_text(paper)) for paper in papers]
    lengths = np.fromiter(map(len, per_paper), dtype=np.int64, count=n_rows)
    flat = list(chain.from_iterable(per_paper))
    column_of: dict[bytes, int] = {}
    for word in set(flat):
        term = _term_of(word)
        if term:
            col = columns.get(term)
            if col is None:
                col = columns[term] = len(columns)
            column_of[word] = col
        else:
            column_of[word] = -1
    width = len(columns)
    cols = np.fromiter(map(column_of.__getitem__, flat), dtype=np.int64, count=len(flat))
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
    keep = cols >= 0
    # counts per (paper, term); words that share a stem ("model", "models") add up
    keys, tf = np.unique(rows[keep] * max(width, 1) + cols[keep], return_counts=True)
    row_of, indices = np.divmod(keys, max(width, 1))
    idf = np.fromiter((model.idf.get(t, model.unseen) for t in columns), dtype=float, count=width)
    data = (1.0 + np.log(tf)) * idf[indices]
    norms = np.sqrt(np.bincount(row_of, weights=data * data, minlength=n_rows))
    data /= np.where(norms > 0, norms, 1.0)[row_of]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    return Matrix(indptr, indices, data, width)


def document_frequencies(texts: Iterable[str]) -> tuple[int, Counter[str]]:
    counts: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        counts.update(term_counts(text).keys())
    return n, counts

"""The sentence-role model: a linear-chain tagger over the five CSAbstruct roles, inference in numpy.

Each sentence becomes a bag of sparse features (words, word pairs, opening words, position in the
abstract, the opening words of the neighbouring sentences); a weight matrix scores every role, a transition matrix
scores every role-to-role step, and Viterbi picks the best sequence for the whole abstract. Weights are
trained by `pipeline.extractive.train` (a conditional random field, L2-regularised) and ship in ``pipeline/extractive/weights/``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.errors import ModelFileError

ROLES: tuple[str, ...] = ("background", "objective", "method", "result", "other")
MODEL_DIR = Path(__file__).with_name("weights")
FEATURE_VERSION = 1

_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?%?|[%()\[\]:;?]")
_CUES = (
    ("we propose", "we present", "we introduce", "this paper", "in this paper", "this work", "we develop"),
    ("results show", "experiments", "outperform", "achieve", "improve", "demonstrate", "state-of-the-art"),
    ("however", "remain", "challenge", "lack", "limited", "difficult", "problem", "suffer"),
    ("code", "available", "http", "github", "dataset is", "released"),
)


def _tokens(sentence: str) -> list[str]:
    toks = _TOKEN.findall(sentence.lower())
    return ["<num>" if t[0].isdigit() else t for t in toks]


def _own(tokens: list[str], sentence: str) -> list[str]:
    feats = ["w=" + t for t in tokens]
    feats += ["b=" + a + "_" + b for a, b in zip(tokens, tokens[1:])]
    if tokens:
        feats.append("f1=" + tokens[0])
        feats.append("f2=" + "_".join(tokens[:2]))
        feats.append("f3=" + "_".join(tokens[:3]))
    n = len(tokens)
    feats.append("len=" + ("s" if n < 10 else "m" if n < 25 else "l" if n < 45 else "xl"))
    low = sentence.lower()
    for i, group in enumerate(_CUES):
        if any(cue in low for cue in group):
            feats.append(f"cue={i}")
    if "%" in sentence:
        feats.append("has%")
    if re.search(r"\d", sentence):
        feats.append("hasnum")
    return feats


def sentence_features(sentences: Sequence[str]) -> list[list[str]]:
    """Feature strings for every sentence of one abstract (position and neighbours included)."""
    n = len(sentences)
    toks = [_tokens(s) for s in sentences]
    out: list[list[str]] = []
    for i, sentence in enumerate(sentences):
        feats = ["bias", f"i={min(i, 6)}", f"r={min(n - 1 - i, 4)}", f"q={int(5 * i / max(n, 1))}"]
        feats.append(f"n={min(n, 12)}")
        own = _own(toks[i], sentence)
        feats += own
        if i == 0:
            feats.append("first")
        if i == n - 1:
            feats.append("last")
        for offset, tag in ((-1, "p"), (1, "x")):
            j = i + offset
            if 0 <= j < n:
                if toks[j]:
                    feats.append(f"{tag}f2=" + "_".join(toks[j][:2]))
            else:
                feats.append(f"{tag}none")
        out.append(feats)
    return out


def viterbi(emissions: np.ndarray, start: np.ndarray, transitions: np.ndarray) -> list[int]:
    """The best role sequence: ``emissions`` (n, k), ``start`` (k,), ``transitions`` (k, k) from→to."""
    n, k = emissions.shape
    if n == 0:
        return []
    score = start + emissions[0]
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + transitions
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + emissions[t]
    path = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = a.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.exp(a - top).sum(axis=axis))


def marginals(emissions: np.ndarray, start: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """Per-sentence role probabilities (n, k) by forward-backward: each row sums to 1.

    Scaled forward-backward in probability space (each step normalised), which is exact and avoids a
    log-sum-exp per step: the emissions are shifted by their row maximum first, so nothing overflows.
    """
    n, k = emissions.shape
    if n == 0:
        return np.zeros((0, k))
    local = np.exp(emissions - emissions.max(axis=1, keepdims=True))
    trans = np.exp(transitions - transitions.max())
    alpha = np.empty((n, k))
    beta = np.empty((n, k))
    a = np.exp(start - start.max()) * local[0]
    alpha[0] = a / a.sum()
    for t in range(1, n):
        a = (alpha[t - 1] @ trans) * local[t]
        alpha[t] = a / a.sum()
    beta[n - 1] = 1.0
    for t in range(n - 2, -1, -1):
        b = trans @ (local[t + 1] * beta[t + 1])
        beta[t] = b / b.sum()
    probs = alpha * beta
    return probs / probs.sum(axis=1, keepdims=True)


class RoleModel:
    """Weights + vocabulary; `predict` maps a list of sentences to a list of roles."""

    def __init__(self, vocab: dict[str, int], weights: np.ndarray, start: np.ndarray, transitions: np.ndarray):
        self.vocab = vocab
        self.weights = weights
        self.start = start
        self.transitions = transitions

    def emissions(self, sentences: Sequence[str], features: list[list[str]] | None = None) -> np.ndarray:
        """Role scores (n, k): the sum of each sentence's feature weights, in one gather and one reduce
        (``features``: `sentence_features` of ``sentences``, when the caller has them already)."""
        vocab = self.vocab
        get = vocab.get
        flat: list[int] = []
        owner: list[int] = []
        for i, feats in enumerate(features if features is not None else sentence_features(sentences)):
            ids = [j for j in map(get, feats) if j is not None]
            flat += ids
            owner += [i] * len(ids)
        rows = np.zeros((len(sentences), len(ROLES)), dtype=np.float64)
        if flat:
            np.add.at(rows, np.array(owner), self.weights[np.array(flat)])
        return rows

    def predict_ids(self, sentences: Sequence[str]) -> tuple[list[int], np.ndarray]:
        emissions = self.emissions(sentences)
        return viterbi(emissions, self.start, self.transitions), emissions

    def analyse(
        self, sentences: Sequence[str], features: list[list[str]] | None = None
    ) -> tuple[list[int], np.ndarray]:
        """Viterbi roles and per-sentence role marginals (n, k) of one abstract."""
        emissions = self.emissions(sentences, features)
        return viterbi(emissions, self.start, self.transitions), marginals(emissions, self.start, self.transitions)

    def predict(self, sentences: Sequence[str]) -> list[str]:
        return [ROLES[i] for i in self.predict_ids(sentences)[0]]

    def save(self, directory: Path, trained_with: dict[str, str] | None = None) -> None:
        """``roles.json`` (vocabulary, roles, versions) and ``roles.npy`` (all weights): both deterministic.
        ``trained_with`` records the library versions that trained the weights: retraining reproduces the bytes
        under those versions only (the last bits of a float move with numpy's and scipy's)."""
        directory.mkdir(parents=True, exist_ok=True)
        names = sorted(self.vocab, key=self.vocab.__getitem__)
        meta: dict[str, object] = {"roles": list(ROLES), "feature_version": FEATURE_VERSION}
        if trained_with:
            meta["trained_with"] = trained_with
        meta["features"] = names
        (directory / "roles.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n", encoding="utf-8")
        packed = np.vstack([self.weights, self.start[None, :], self.transitions]).astype("<f4")
        with (directory / "roles.npy").open("wb") as fh:
            np.save(fh, packed, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> RoleModel:
        try:
            meta = json.loads((directory / "roles.json").read_text(encoding="utf-8"))
            packed = np.load(directory / "roles.npy", allow_pickle=False).astype(np.float64)
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"cannot load the embedded model from {directory}: {exc}") from exc
        if meta.get("feature_version") != FEATURE_VERSION or tuple(meta.get("roles", ())) != ROLES:
            raise ModelFileError(
                f"{directory}: model files do not match this code; retrain (python -m pipeline.extractive.train)"
            )
        k = len(ROLES)
        f = len(meta["features"])
        if packed.shape != (f + 1 + k, k):
            raise ModelFileError(f"{directory}/roles.npy has shape {packed.shape}, expected {(f + 1 + k, k)}")
        vocab = {name: i for i, name in enumerate(meta["features"])}
        return cls(vocab, packed[:f], packed[f], packed[f + 1 :])


def save_weights(path: Path, feature_names: Sequence[str], weights: object) -> None:
    """A selector's weights (rounded to 6 places: the same text on every platform) beside its feature names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"features": list(feature_names), "weights": weights}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def load_weights(path: Path, feature_names: Sequence[str], what: str) -> object:
    """The ``weights`` of a file `save_weights` wrote, checked against this code's feature names."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"cannot load the {what} from {path.parent}: {exc}") from exc
    if tuple(data.get("features", ())) != tuple(feature_names):
        raise ModelFileError(f"{path} does not match this code; retrain (python -m pipeline.extractive.train)")
    return data["weights"]


@lru_cache(maxsize=1)
def default_model() -> RoleModel:
    return RoleModel.load(MODEL_DIR)


def model_hash(directory: Path = MODEL_DIR) -> str:
    """Identifies the shipped weights: part of the cache key, so retraining invalidates old summaries."""
    digest = hashlib.sha256()
    for name in ("roles.json", "roles.npy", "tldr.json", "fields.json"):
        path = directory / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]

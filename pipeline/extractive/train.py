"""Train the embedded engine on the labelled train splits; report dev scores.

The sentence-role model on CSAbstruct train, the tldr selector on SciTLDR train, the field selectors on the LLM
fields of data/modern/ and data/sciences/ train (every field group together: one engine for every field).

    python -m pipeline.extractive.train                 # regenerates pipeline/extractive/weights/ bit for bit
    python -m pipeline.extractive.train --out /tmp/m --c 0.3

A linear-chain conditional random field with L2 regularisation, fitted by L-BFGS. Each abstract's loss is
weighted by its annotators' mean agreement (``confs``) squared, so noisy labels pull less. Tuned on dev:
C=0.1, min feature count 2 (see README). BLAS runs single-threaded so the result is the same bytes each time.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from functools import lru_cache  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from pipeline.evaluate.data import Abstract, load_labelled  # noqa: E402
from pipeline.evaluate.scoring import score  # noqa: E402
from pipeline.extractive.fields import FIELDS as FIELD_NAMES  # noqa: E402
from pipeline.extractive.fields import FieldSelectors  # noqa: E402
from pipeline.extractive.fields import features as field_features  # noqa: E402
from pipeline.grounding import idf_table, save_idf  # noqa: E402
from pipeline.extractive.roles import MODEL_DIR, ROLES, RoleModel, logsumexp, sentence_features  # noqa: E402
from pipeline.extractive.tldr import TldrSelector, tldr_text  # noqa: E402
from pipeline.extractive.tldr import features as tldr_features  # noqa: E402

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "csabstruct"
TLDR_DIR = Path(__file__).resolve().parents[2] / "data" / "scitldr"
MODERN_DIR = Path(__file__).resolve().parents[2] / "data" / "modern"
SCIENCES_DIR = Path(__file__).resolve().parents[2] / "data" / "sciences"
FIELDS_C = 1.0  # L2 strength of the field selectors (tuned on modern dev: 0.3 / 1 / 3 within 0.01 of oracle)
LEXICAL_C = 10.0  # L2 strength of the field selectors' word weights
LEXICAL_MIN_COUNT = 5  # a word feature weighs in when this many training sentences have it
FIELDS_TEMPERATURE = 0.05  # soft targets: softmax of each sentence's ROUGE-1 with the LLM's field (0.1, 0.2 worse)
TLDR_C = 1.0  # L2 strength of the tldr selector (tuned on SciTLDR dev: 0.1 / 1 / 10 within 0.3 ROUGE-1)
TLDR_TEMPERATURE = 0.1  # soft targets: softmax of each sentence's ROUGE with the human TLDRs
C = 0.1
MIN_COUNT = 2
CONF_POWER = 2.0
MAX_ITER = 300


def build_vocab(data: list[Abstract], min_count: int = MIN_COUNT) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for abstract in data:
        for feats in sentence_features(abstract.sentences):
            counts.update(set(feats))
    return {name: i for i, name in enumerate(sorted(n for n, c in counts.items() if c >= min_count))}


class _Problem:
    """The batched CRF objective: all abstracts padded to one length, forward-backward over time only."""

    def __init__(self, data: list[Abstract], vocab: dict[str, int], weights: np.ndarray, c: float):
        import scipy.sparse as sparse

        rows, cols, labels, lens = [], [], [], []
        role_id = {r: i for i, r in enumerate(ROLES)}
        n = 0
        for abstract in data:
            for feats in sentence_features(abstract.sentences):
                for f in feats:
                    if f in vocab:
                        rows.append(n)
                        cols.append(vocab[f])
                n += 1
            labels += [role_id[x] for x in abstract.labels]
            lens.append(len(abstract.sentences))
        self.x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(vocab)))
        self.x.sum_duplicates()
        self.xt = self.x.T.tocsr()
        self.y = np.array(labels)
        self.lens = np.array(lens)
        self.k, self.f, self.c = len(ROLES), len(vocab), c
        batch, width = len(lens), int(self.lens.max())
        offsets = np.concatenate([[0], np.cumsum(self.lens)])
        self.index = np.full((batch, width), -1)
        for b in range(batch):
            self.index[b, : lens[b]] = np.arange(offsets[b], offsets[b + 1])
        self.mask = self.index >= 0
        self.safe = np.where(self.mask, self.index, 0)
        self.gold = np.where(self.mask, self.y[self.safe], 0)
        self.wb = weights

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k, f = self.k, self.f
        return theta[: f * k].reshape(f, k), theta[f * k : f * k + k], theta[f * k + k :].reshape(k, k)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, start, trans = self.unpack(theta)
        mask, gold, wb = self.mask, self.gold, self.wb
        emis = np.asarray(self.x @ w)[self.safe] * mask[..., None]
        batch, width, k = emis.shape
        alpha = np.zeros_like(emis)
        alpha[:, 0] = start + emis[:, 0]
        for t in range(1, width):
            step = logsumexp(alpha[:, t - 1, :, None] + trans[None], axis=1) + emis[:, t]
            alpha[:, t] = np.where(mask[:, t, None], step, alpha[:, t - 1])
        log_z = logsumexp(alpha[:, -1], axis=1)
        beta = np.zeros_like(emis)
        for t in range(width - 2, -1, -1):
            step = logsumexp(trans[None] + (emis[:, t + 1] + beta[:, t + 1])[:, None, :], axis=2)
            beta[:, t] = np.where(mask[:, t + 1, None], step, 0.0)
        pair_mask = mask[:, 1:]
        gold_score = (emis[np.arange(batch)[:, None], np.arange(width)[None], gold] * mask).sum(axis=1)
        gold_score += start[gold[:, 0]] + (trans[gold[:, :-1], gold[:, 1:]] * pair_mask).sum(axis=1)
        loss = float((wb * (log_z - gold_score)).sum())

        marg = np.exp(alpha + beta - log_z[:, None, None]) * mask[..., None] * wb[:, None, None]
        g_emis = np.zeros((self.x.shape[0], k))
        g_emis[self.index[mask]] = marg[mask]
        g_emis[np.arange(len(self.y)), self.y] -= np.repeat(wb, self.lens)
        g_w = np.asarray(self.xt @ g_emis)
        g_start = marg[:, 0].sum(axis=0) - np.bincount(gold[:, 0], weights=wb, minlength=k)
        pair = alpha[:, :-1, :, None] + trans + (emis[:, 1:] + beta[:, 1:])[:, :, None, :]
        pm = np.exp(pair - log_z[:, None, None, None]) * (pair_mask * wb[:, None])[..., None, None]
        g_trans = pm.sum(axis=(0, 1))
        np.add.at(
            g_trans,
            (gold[:, :-1][pair_mask], gold[:, 1:][pair_mask]),
            -np.broadcast_to(wb[:, None], pair_mask.shape)[pair_mask],
        )
        loss += 0.5 / self.c * float((theta**2).sum())
        grad = np.concatenate([g_w.ravel(), g_start, g_trans.ravel()]) + theta / self.c
        return loss, grad


def train(data: list[Abstract], confs: list[float], *, c: float = C, min_count: int = MIN_COUNT) -> RoleModel:
    from scipy.optimize import minimize

    vocab = build_vocab(data, min_count)
    weights = np.array(confs, dtype=np.float64) ** CONF_POWER
    problem = _Problem(data, vocab, weights, c)
    theta0 = np.zeros(problem.f * problem.k + problem.k + problem.k * problem.k)
    result = minimize(problem, theta0, jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITER})
    w, start, trans = problem.unpack(result.x)
    # Stored as float32: the shipped files are what inference uses, so round here, once.
    return RoleModel(vocab, w.astype(np.float32), start.astype(np.float32), trans.astype(np.float32))


def train_tldr(path: Path, roles: RoleModel, *, c: float = TLDR_C) -> TldrSelector:
    """The tldr selector: a conditional logit over each abstract's sentences, fitted to SciTLDR's ROUGE scores."""
    xs, targets = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        sentences = [" ".join(s.split()) for s in obj["source"]]
        given = obj.get("rouge_scores") or []
        targets_text = [str(t) for t in obj.get("target") or []]
        if len(given) != len(sentences) or not sentences or not targets_text:
            continue  # a few SciTLDR rows have scores for a different split; their supervision is unusable
        # What the engine shows is the sentence after compression, scored as `summarize eval` scores it (best human
        # TLDR, ROUGE-1/2/L F1 with stemming): the selector learns that, not SciTLDR's scores of the raw sentence.
        rouge = np.array([_rouge(tldr_text(s), targets_text) for s in sentences])
        _, probs = roles.analyse(sentences)
        xs.append(tldr_features(str(obj.get("title") or ""), sentences, probs))
        soft = np.exp((rouge - rouge.max()) / TLDR_TEMPERATURE)
        targets.append(soft / soft.sum())

    return TldrSelector(np.round(_conditional_logit(xs, targets, c), 6))


def _conditional_logit(xs: list[np.ndarray], targets: list[np.ndarray], c: float) -> np.ndarray:
    """Weights of a conditional logit over each group's rows, fitted to soft targets (L2 ``c``), by L-BFGS."""
    from scipy.optimize import minimize

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = 0.0, np.zeros_like(w)
        for x, t in zip(xs, targets):
            s = x @ w
            s -= s.max()
            p = np.exp(s)
            p /= p.sum()
            loss -= float((t * np.log(p + 1e-12)).sum())
            grad += x.T @ (p - t)
        return loss + 0.5 * c * float(w @ w), grad + c * w

    return minimize(objective, np.zeros(xs[0].shape[1]), jac=True, method="L-BFGS-B").x


def _soft(values: list[float], temperature: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    soft = np.exp((v - v.max()) / temperature)
    return soft / soft.sum()


def train_fields(
    paths: Path | list[Path],
    roles: RoleModel,
    tldr: TldrSelector,
    *,
    c: float = FIELDS_C,
    c_lexical: float = LEXICAL_C,
    min_count: int = LEXICAL_MIN_COUNT,
) -> FieldSelectors:
    """The key-result, problem and method selectors, on silver labels from an LLM's field summaries: each
    sentence's target is the softmax of its ROUGE-1 F1 with the LLM's ``result``, ``motivation``, ``method``.
    The problem selector chooses among the sentences the tldr does not take (the engine never repeats it).
    Besides the dense `FEATURE_NAMES`, each field weighs the role model's word features seen in at least
    ``min_count`` training sentences (L2 ``c_lexical``; ``min_count`` 0: no lexical part)."""
    from pipeline.engines.embedded import sentence_facts
    from pipeline.evaluate.data import load_llm_fields
    from pipeline.evaluate.scoring import Rouge1
    from pipeline.extractive.fields import LEXICAL_KINDS
    from pipeline.extractive.text import split_sentences

    rouge = Rouge1()
    xs: dict[str, list[np.ndarray]] = {name: [] for name in FIELD_NAMES}
    lex: dict[str, list[list[str]]] = {name: [] for name in FIELD_NAMES}
    targets: dict[str, list[np.ndarray]] = {name: [] for name in FIELD_NAMES}
    counts: Counter[str] = Counter()
    papers = [p for path in ([paths] if isinstance(paths, Path) else paths) for p in load_llm_fields(path)]
    for paper in papers:
        sentences = split_sentences(paper.abstract)
        if len(sentences) < 2:
            continue
        feats = [[f for f in row if f.startswith(LEXICAL_KINDS)] for row in sentence_features(sentences)]
        for row in feats:
            counts.update(set(row))
        _, probs = roles.analyse(sentences)
        _, headline, quantities, cues = sentence_facts(sentences)
        x = field_features(sentences, probs, headline, cues, quantities, paper.title)
        shown = tldr.select(paper.title, sentences, probs)
        for name in FIELD_NAMES:
            keep = [i for i in range(len(sentences)) if name != "problem" or i != shown]
            xs[name].append(x[keep])
            lex[name].extend(feats[i] for i in keep)
            rouge_f1 = [rouge.f1(sentences[i], paper.fields[name]) for i in keep]
            targets[name].append(_soft(rouge_f1, FIELDS_TEMPERATURE))
    names = sorted(f for f, n in counts.items() if min_count and n >= min_count)
    lexicon = {f: i for i, f in enumerate(names)}
    dense, lexical = {}, np.zeros((len(lexicon), len(FIELD_NAMES)))
    for j, name in enumerate(FIELD_NAMES):
        w_dense, w_lex = _grouped_logit(xs[name], _sparse_rows(lex[name], lexicon), targets[name], c, c_lexical)
        dense[name] = np.round(w_dense, 6)
        lexical[:, j] = np.round(w_lex, 6)
    return FieldSelectors(dense, lexicon, lexical)


def _sparse_rows(rows: list[list[str]], lexicon: dict[str, int]) -> Any:
    import scipy.sparse as sparse

    indptr, indices = [0], []
    for row in rows:
        indices.extend(sorted({lexicon[f] for f in row if f in lexicon}))
        indptr.append(len(indices))
    data = np.ones(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), len(lexicon)))


def _grouped_logit(
    xs: list[np.ndarray], lexical: Any, targets: list[np.ndarray], c: float, c_lexical: float
) -> tuple[np.ndarray, np.ndarray]:
    """A conditional logit over each abstract's sentences with dense rows ``xs`` and sparse ``lexical`` rows
    (stacked in the same order), fitted to soft targets by L-BFGS, in one vectorised pass per step."""
    from scipy.optimize import minimize

    x = np.vstack(xs)
    t = np.concatenate(targets)
    lens = np.array([len(g) for g in xs])
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    f, v = x.shape[1], lexical.shape[1]
    lexical_t = lexical.T.tocsr()

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        wd, wl = w[:f], w[f:]
        s = x @ wd + lexical @ wl
        s = s - np.repeat(np.maximum.reduceat(s, starts), lens)
        log_z = np.log(np.add.reduceat(np.exp(s), starts))
        log_p = s - np.repeat(log_z, lens)
        loss = -float(t @ log_p) + 0.5 * c * float(wd @ wd) + 0.5 * c_lexical * float(wl @ wl)
        g = np.exp(log_p) - t
        grad = np.concatenate([x.T @ g + c * wd, lexical_t @ g + c_lexical * wl])
        return loss, grad

    w = minimize(objective, np.zeros(f + v), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
    return w[:f], w[f:]


@lru_cache(maxsize=1)
def _scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def _rouge(candidate: str, targets: list[str]) -> float:
    """Mean of ROUGE-1/2/L F1 (stemming) against the best of ``targets``."""
    best = 0.0
    for target in targets:
        scores = _scorer().score(target, candidate)
        best = max(best, (scores["rouge1"].fmeasure + scores["rouge2"].fmeasure + scores["rougeL"].fmeasure) / 3)
    return best


def _abstract_texts(*paths: Path) -> Iterator[str]:
    """The abstracts of the training files (CSAbstruct ``sentences``, SciTLDR ``source``), for the idf table."""
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                yield " ".join(obj.get("sentences") or obj.get("source") or [])


def trained_with() -> dict[str, str]:
    """The versions whose arithmetic the weights' last bits depend on (recorded in ``roles.json``)."""
    import platform

    import scipy

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__}


def mean_confs(path: Path) -> list[float]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            confs = json.loads(line).get("confs") or [1.0]
            out.append(float(np.mean(confs)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=DATA_DIR / "train.jsonl", help="CSAbstruct train file")
    parser.add_argument("--dev", type=Path, default=DATA_DIR / "dev.jsonl", help="scored after training")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="folder for roles.json and roles.npy")
    parser.add_argument("--c", type=float, default=C, help="inverse L2 strength")
    parser.add_argument("--min-count", type=int, default=MIN_COUNT, help="drop rarer features")
    parser.add_argument("--tldr-train", type=Path, default=TLDR_DIR / "train.jsonl", help="SciTLDR train file")
    parser.add_argument(
        "--fields-train",
        type=Path,
        nargs="+",
        default=[MODERN_DIR / "train.jsonl", *sorted(SCIENCES_DIR.glob("*.train.jsonl"))],
        help="LLM-fields files (data/modern format); default: modern train and every data/sciences train file",
    )
    args = parser.parse_args(argv)
    data = load_labelled(args.train)
    model = train(data, mean_confs(args.train), c=args.c, min_count=args.min_count)
    model.save(args.out, trained_with=trained_with())
    save_idf(args.out, _abstract_texts(args.train, args.tldr_train))  # first: the tldr selector's features read it
    idf_table.cache_clear()
    selector = train_tldr(args.tldr_train, model)
    selector.save(args.out)
    train_fields(args.fields_train, model, selector).save(args.out)
    summary: dict[str, object] = {"out": str(args.out), "features": len(model.vocab), "c": args.c}
    if args.dev and args.dev.exists():
        dev = load_labelled(args.dev)
        gold = [x for a in dev for x in a.labels]
        summary["dev"] = score(gold, [x for a in dev for x in model.predict(a.sentences)])
    json.dump(summary, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

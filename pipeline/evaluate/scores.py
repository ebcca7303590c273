"""Scores against hand-labelled ones (the data/scores/ format): value and tuple P/R/F1, own and kind accuracy.

The matching rule is the data set's (data/scores/SOURCES.md): a predicted score matches a labelled one when the
digits of their values agree, in order; a tuple also needs its dataset and its metric to agree (both empty, or one
name's lower-cased words cover at least half of the other's). Own and kind accuracy are over the tuple matches.
Each paper is matched one to one, a score of the same sentence first.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.quantities import digits, plain


@dataclass
class ScoredPaper:
    id: str
    title: str
    abstract: str
    sentences: list[str]
    tuples: list[dict[str, Any]]


def load_scores(path: Path) -> list[ScoredPaper]:
    """A data/scores/-format file: a JSON array of ``id``, ``title``, ``abstract``, ``sentences``, ``tuples``."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the labelled scores: {exc}", path=str(path)) from exc
    if not isinstance(items, list):
        raise InputError("not a JSON array of labelled abstracts", path=str(path))
    out: list[ScoredPaper] = []
    for number, item in enumerate(items, start=1):
        try:
            tuples = [dict(t) for t in item["tuples"]]
            for t in tuples:
                str(t["value"]), bool(t["own"]), str(t["kind"])
            out.append(
                ScoredPaper(
                    str(item["id"]),
                    str(item.get("title") or ""),
                    str(item["abstract"]),
                    [str(s) for s in item.get("sentences") or []],
                    tuples,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"item {number} is not a labelled abstract ({exc!r})", path=str(path)) from exc
    return out


_WORDS = re.compile(r"[a-z0-9]+")


def names_agree(a: str, b: str) -> bool:
    """Both empty, or one name's lower-cased words cover at least half of the other's."""
    wa, wb = set(_WORDS.findall(a.lower())), set(_WORDS.findall(b.lower()))
    if not wa or not wb:
        return not wa and not wb
    shared = len(wa & wb)
    return shared * 2 >= len(wa) or shared * 2 >= len(wb)


def _match(
    predicted: list[dict[str, Any]], gold: list[dict[str, Any]], tuples: bool
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """One-to-one pairs (predicted, gold) whose values' digits agree (and, for ``tuples``, dataset and metric),
    pairs within the same sentence first."""
    free = list(range(len(gold)))
    pairs = []
    for same_sentence in (True, False):
        for p in predicted:
            if any(p is q for q, _ in pairs):
                continue
            for k in free:
                g = gold[k]
                if digits(str(p.get("value", ""))) != digits(str(g["value"])):
                    continue
                if same_sentence and p.get("sentence") != g.get("sentence"):
                    continue
                if tuples and not (
                    names_agree(str(p.get("dataset", "")), str(g.get("dataset", "")))
                    and names_agree(str(p.get("metric", "")), str(g.get("metric", "")))
                ):
                    continue
                pairs.append((p, g))
                free.remove(k)
                break
    return pairs


def _prf(hits: int, predicted: int, gold: int) -> dict[str, float]:
    p = hits / predicted if predicted else 0.0
    r = hits / gold if gold else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def score_predictions(data: list[ScoredPaper], predictions: Iterable[list[dict[str, Any]]]) -> dict[str, Any]:
    """Value and tuple P/R/F1, own and kind accuracy (over the tuple matches) of one prediction list per paper."""
    n_pred = n_gold = value_hits = tuple_hits = own = kind = 0
    for paper, predicted in zip(data, predictions, strict=True):
        n_pred += len(predicted)
        n_gold += len(paper.tuples)
        value_hits += len(_match(predicted, paper.tuples, tuples=False))
        matched = _match(predicted, paper.tuples, tuples=True)
        tuple_hits += len(matched)
        own += sum(bool(p.get("own")) == bool(g["own"]) for p, g in matched)
        kind += sum(p.get("kind") == g["kind"] for p, g in matched)
    return {
        "predicted": n_pred,
        "labelled": n_gold,
        "value": _prf(value_hits, n_pred, n_gold),
        "tuple": _prf(tuple_hits, n_pred, n_gold),
        "own_accuracy": round(own / tuple_hits, 4) if tuple_hits else 0.0,
        "kind_accuracy": round(kind / tuple_hits, 4) if tuple_hits else 0.0,
    }


_YEAR = re.compile(r"^(?:19|20)\d\d$")
_ANCHOR = re.compile(r"(?<![\d.])\d+(?:,\d{3})*(?:\.\d+)?(?:\s?%|x(?![a-zA-Z]))?")


def anchor(title: str, abstract: str, sentences: list[str]) -> list[dict[str, Any]]:
    """The anchor: every number written with %, x or a decimal point, not a year (wherever it stands, names
    included); it names no dataset or metric."""
    out = []
    for i, sentence in enumerate(sentences):
        for found in _ANCHOR.finditer(plain(sentence)):
            value = found.group(0)
            if (value[-1] in "%x" or "." in value) and not _YEAR.match(value):
                out.append(
                    {"sentence": i, "value": value, "metric": "", "dataset": "", "own": True, "kind": "absolute"}
                )
    return out


def evaluate_scores(
    path: Path, summarize: Callable[[str, str], Any] | None, *, limit: int | None = None, engine: str = "embedded"
) -> dict[str, Any]:
    """The engine's scores (``summarize(title, abstract).summary.scores``) and the anchor's, each scored; a paper
    the engine fails counts as no scores."""
    data = load_scores(path)[:limit]
    rows: dict[str, Any] = {}
    if summarize is not None:
        started = time.perf_counter()
        predictions, failed = [], 0
        for paper in data:
            try:
                scores = summarize(paper.title, paper.abstract).summary.scores
                predictions.append([s.model_dump() for s in scores])
            except Exception:  # a failed paper scores nothing (counted)
                failed += 1
                predictions.append([])
        rows[engine] = {
            **score_predictions(data, predictions),
            "failed": failed,
            "seconds": round(time.perf_counter() - started, 3),
        }
    rows["anchor"] = score_predictions(data, (anchor(p.title, p.abstract, p.sentences) for p in data))
    return {"papers": len(data), "engines": rows}


__all__ = ["anchor", "evaluate_scores", "load_scores", "names_agree", "print_scores_eval", "score_predictions"]


def print_scores_eval(result: dict[str, Any], path: Path) -> None:
    """One row per engine (and the anchor): value and tuple P/R/F1, own and kind accuracy on the tuple matches."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{path}: scores on {result['papers']} papers"))
    columns = ("engine", "found", "value P", "value R", "value F1", "tuple P", "tuple R", "tuple F1", "own acc",
               "kind acc")
    for column in columns:
        table.add_column(column, justify="left" if column == "engine" else "right")
    for name, row in result["engines"].items():
        v, t = row["value"], row["tuple"]
        table.add_row(
            escape(name), f"{row['predicted']}/{row['labelled']}", f"{v['precision']:.3f}", f"{v['recall']:.3f}",
            f"{v['f1']:.3f}", f"{t['precision']:.3f}", f"{t['recall']:.3f}", f"{t['f1']:.3f}",
            f"{row['own_accuracy']:.3f}", f"{row['kind_accuracy']:.3f}",
        )
    Console().print(table)

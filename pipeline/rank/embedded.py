"""The embedded ranker: how close each paper is to the reader's library, contrasted with the day, plus the
reader's own signals (keywords, followed authors, exclusions), each score with the reasons behind it.

The library signal is a Rocchio profile over tf-idf vectors (global idf, `pipeline.rank.vectors`):

    profile = recency-weighted mean of the library  -  BETA x mean of the day (blended with a background)
              -  mean of the papers voted "less like this"
    library(x) = cosine-like x . profile / (the same for a typical library paper)

Subtracting the day is what a linear classifier trained on "library against the day" learns (measured on the dev
cases: the same precision as logistic regression, at a thousandth of the cost; docs/ranking.md); the words every
paper of the day uses cancel out and the words that set the library apart remain. 1.0 means "as close as a
typical library paper"; the other signals are in the same unit, so their shares of a score are comparable.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np

from pipeline.grounding import stem
from pipeline.rank.vectors import Vocabulary, load_model, vectorize
from pipeline.rank.vectors import field as get


@dataclass(frozen=True)
class Params:
    beta: float = 1.2  # how much of the day's mean is taken out of the library profile
    background_docs: float = 50.0  # the background counts as this many papers of the day (small days stay sane)
    negative_weight: float = 1.0  # "less like this" votes, against the profile
    recency: bool = True  # newer library papers weigh more: 1 / (1 + log10(rank + 1)), newest first
    coauthor: float = 0.3  # per library author on the paper (at most two), in library units
    keyword: float = 0.5  # per unit of keyword weight matched
    exclude: float = 2.0  # per exclude phrase matched
    followed: float = 10.0  # a followed author: pinned above everything the library signal gives
    closest: int = 2  # library titles named in the reasons


DEFAULT = Params()
NEIGHBOUR_TERMS = 24  # words of each paper compared when naming its closest library papers


@dataclass
class Profile:
    """What the ranker knows of one reader."""

    positives: Sequence[Any] = ()  # library entries (title, abstract, authors, when)
    negatives: Sequence[Any] = ()  # "less like this"
    keywords: dict[str, float] = field(default_factory=dict)
    authors: Sequence[str] = ()
    exclude: Sequence[str] = ()

    @property
    def empty(self) -> bool:
        return not (self.positives or self.keywords or self.authors)


@dataclass
class Ranked:
    """One paper's place: its score (0-100), the signals behind it (library units) and the reasons in words."""

    id: str
    title: str
    score: float
    total: float
    signals: dict[str, float]
    reasons: list[str]
    closest: list[str]
    paper: Any = None
    judge: dict[str, Any] | None = None  # the LLM judge's answer (relevance, reason, model) or its error

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "title": self.title,
            "score": self.score,
            "reasons": self.reasons,
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "closest": self.closest,
        }
        if self.judge is not None:
            out["judge"] = self.judge
        return out


def score_of(total: float) -> float:
    """0-100, monotone in the total: 50 at half a typical library paper's closeness, 88 at one, ~100 pinned."""
    return round(100.0 / (1.0 + math.exp(min(50.0, -4.0 * (total - 0.5)))), 1)


def recency_weights(entries: Sequence[Any]) -> np.ndarray:
    """1 / (1 + log10(rank + 1)) by date, newest first (zotero-arxiv-daily's weighting); undated entries weigh
    the mean of the dated ones, and all weigh 1 when none is dated."""
    dates: list[datetime | None] = [get(e, "when", None) for e in entries]
    dated = sorted((d.timestamp(), i) for i, d in enumerate(dates) if isinstance(d, datetime))
    weights = np.ones(len(entries))
    if not dated:
        return weights
    for rank, (_, i) in enumerate(reversed(dated)):
        weights[i] = 1.0 / (1.0 + math.log10(rank + 1))
    mean = float(np.mean([weights[i] for _, i in dated]))
    for i, d in enumerate(dates):
        if not isinstance(d, datetime):
            weights[i] = mean
    return weights


_NAME = re.compile(r"[^\w\s]")
_PHRASE_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """An author's name compared without case, accents, dots or commas: "J. Müller" ~ "j muller"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(_NAME.sub(" ", plain).split())


def _initial_key(key: str) -> str:
    parts = key.split()
    return f"{parts[0][0]} {parts[-1]}" if len(parts) > 1 else key


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in _PHRASE_WORD.findall(text.lower()))


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if not n or n > len(words):
        return False
    first = phrase[0]
    return any(words[i] == first and words[i : i + n] == phrase for i in range(len(words) - n + 1))


def _quote(title: str, limit: int = 90) -> str:
    title = " ".join(title.split())
    return f"“{title[: limit - 1]}…”" if len(title) > limit else f"“{title}”"


def _pct(part: float, whole: float) -> str:
    return f"{round(100 * part / whole)}%" if whole > 0 else "0%"


def rank(papers: Sequence[Any], profile: Profile, params: Params | None = None) -> list[Ranked]:
    """``papers`` best first. Each paper needs ``id`` and ``title`` (``abstract`` and ``authors`` when known)."""
    if not papers:
        return []
    params = params or DEFAULT
    model = load_model()
    vocabulary = Vocabulary()
    day = vectorize(papers, vocabulary, model)
    library = vectorize(profile.positives, vocabulary, model)
    negatives = vectorize(profile.negatives, vocabulary, model)
    width = len(vocabulary)
    day, library, negatives = day.resized(width), library.resized(width), negatives.resized(width)

    content = np.zeros(day.rows)
    closest: list[list[int]] = [[] for _ in range(day.rows)]
    if library.rows:
        weights = recency_weights(profile.positives) if params.recency else np.ones(library.rows)
        n0 = params.background_docs if model.background else 0.0
        against = (day.rows * day.mean() + n0 * vocabulary.dense(model.background)) / (day.rows + n0)
        query = library.mean(weights) - params.beta * against
        if negatives.rows:
            query -= params.negative_weight * negatives.mean()
        own = library.dot(query)
        scale = float(np.average(own, weights=weights))
        if scale <= 1e-9:  # a library indistinguishable from the day: fall back to its plain spread
            scale = float(np.abs(own).max()) or 1.0
        content = day.dot(query) / scale
        # the closest library papers, by what each pair shares of their strongest words (fast at any size)
        sims = day.strongest(NEIGHBOUR_TERMS).similarities(library.strongest(NEIGHBOUR_TERMS))
        k = min(params.closest, library.rows)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < library.rows else np.tile(np.arange(k), (day.rows, 1))
        for i in range(day.rows):
            picks = sorted(top[i], key=lambda j: (-sims[i, j], j))
            closest[i] = [int(j) for j in picks if sims[i, j] > 0]

    library_authors: dict[str, str] = {}
    for entry in profile.positives:
        for name in get(entry, "authors", []) or []:
            library_authors.setdefault(name_key(name), name)
    followed = {name_key(a): a for a in profile.authors}
    followed_initials = {_initial_key(k): a for k, a in followed.items()}
    keywords = [(p, _phrase(p), w) for p, w in profile.keywords.items()]
    excludes = [(p, _phrase(p)) for p in profile.exclude]
    firsts = {ph[0][:4] for ph in [k[1] for k in keywords] + [e[1] for e in excludes] if ph}

    out: list[Ranked] = []
    for i, paper in enumerate(papers):
        title = str(get(paper, "title") or "")
        text = f"{title} {get(paper, 'abstract') or ''}"
        lowered = text.lower()
        # a phrase can only match where its first word's stem starts (the cheap test first)
        words = _phrase(text) if any(first in lowered for first in firsts) else ()
        names = [str(a) for a in (get(paper, "authors", []) or [])]
        keys = [name_key(a) for a in names]
        follow = [followed.get(k) or followed_initials.get(_initial_key(k)) for k in keys]
        follow_hits = sorted({f for f in follow if f})
        shared = [library_authors[k] for k in dict.fromkeys(keys) if k in library_authors and k not in followed]
        kw_hits = [(p, w) for p, ph, w in keywords if _contains(words, ph)]
        ex_hits = [p for p, ph in excludes if _contains(words, ph)]
        signals = {"library": float(content[i])} if library.rows else {}
        if kw_hits:
            signals["keywords"] = params.keyword * sum(w for _, w in kw_hits)
        if follow_hits:
            signals["authors"] = params.followed
        if shared:
            signals["coauthors"] = params.coauthor * min(len(shared), 2)
        if ex_hits:
            signals["exclude"] = -params.exclude * len(ex_hits)
        total = math.fsum(signals.values())
        whole = math.fsum(abs(v) for v in signals.values())
        reasons: list[str] = []
        if follow_hits:
            reasons.append(f"followed author: {', '.join(follow_hits)} ({_pct(signals['authors'], whole)})")
        if kw_hits:
            reasons.append(f"keywords: {', '.join(p for p, _ in kw_hits)} ({_pct(signals['keywords'], whole)})")
        titles = [str(get(profile.positives[j], "title") or "") for j in closest[i]]
        if library.rows:
            lib = signals["library"]
            if lib >= 0.5:
                lead = "close to your library"
            elif lib > 0.15:
                lead = "somewhat like your library"
            else:
                lead = "little like your library"
            named = f": {'; '.join(_quote(t) for t in titles)}" if titles else ""
            reasons.append(f"{lead} ({_pct(abs(lib), whole)}){named}")
        if shared:
            share = _pct(signals["coauthors"], whole)
            reasons.append(f"shares authors with your library: {', '.join(shared[:3])} ({share})")
        if ex_hits:
            reasons.append(f"excluded: {', '.join(ex_hits)} ({_pct(abs(signals['exclude']), whole)})")
        if not reasons:
            reasons.append("matches none of your keywords or authors")
        out.append(
            Ranked(
                id=str(get(paper, "id") or ""),
                title=title,
                score=score_of(total),
                total=total,
                signals=signals,
                reasons=reasons,
                closest=titles,
                paper=paper,
            )
        )
    # best first; ties (same total) keep the input order
    order = sorted(range(len(out)), key=lambda i: (-out[i].total, i))
    return [out[i] for i in order]

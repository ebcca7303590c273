"""The embedded ranker: how close each paper is to the reader's library, contrasted with the day, plus the
reader's own signals (keywords, followed authors, exclusions), each score with the reasons behind it.

The library signal is a Rocchio profile over tf-idf vectors (global idf, `pipeline.rank.vectors`):

    profile = recency-weighted mean of the library  -  BETA x mean of the day (blended with a background)
    library(x) = cosine-like x . profile / (the same for a typical library paper)

Subtracting the day is what a linear classifier trained on "library against the day" learns (measured on the dev
cases: the same precision as logistic regression, at a thousandth of the cost; docs/ranking.md); the words every
paper of the day uses cancel out and the words that set the library apart remain. 1.0 means "as close as a
typical library paper"; the other signals are in the same unit, so their shares of a score are comparable.

Votes ("more / less like this" from the page) are the reader's labelled examples and act locally: a paper gains
in proportion to how close it is to the papers voted "more" (the mean cosine of its nearest few, above what two
unrelated papers share) and loses the same way for "less". A vote moves the papers like it and leaves the rest of
the day where it was, however many votes pile up; subtracting the "less" papers from the profile (what this ranker
did before) pulled every score down at once (docs/ranking.md has the alternatives measured on the dev loop). A
reader whose only library is their votes has the "more" papers as the profile.
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
from pipeline.rank.reasons import in_words
from pipeline.rank.vectors import Matrix, Vocabulary, load_model, vectorize
from pipeline.rank.vectors import field as get


@dataclass(frozen=True)
class Params:
    beta: float = 1.2  # how much of the day's mean is taken out of the library profile
    background_docs: float = 50.0  # the background counts as this many papers of the day (small days stay sane)
    vote_more: float = 0.3  # per unit of closeness (cosine above the floor, in tenths) to "more" votes
    vote_less: float = 0.3  # the same, taken away, for "less" votes
    vote_neighbours: int = 3  # closeness to the votes = the mean of the nearest this many
    vote_floor: float = 0.05  # at least this cosine before a vote moves a paper
    vote_alike: float = 90.0  # ... and more than this percentile of the day's own pairs share: "like it"
    recency: bool = True  # newer library papers weigh more: 1 / (1 + log10(rank + 1)), newest first
    coauthor: float = 0.3  # per library author on the paper (at most two), in library units
    keyword: float = 0.5  # per unit of keyword weight matched
    exclude: float = 2.0  # per exclude phrase matched
    followed: float = 10.0  # a followed author: pinned above everything the library signal gives
    closest: int = 2  # library titles named in the reasons


DEFAULT = Params()
NEIGHBOUR_TERMS = 24  # words of each paper compared when naming its closest library papers
MAX_VOTES = 2_000  # the newest votes of each kind that are compared with every paper
ALIKE_SAMPLE = 400  # papers of the day whose pairs set what "alike" means


@dataclass
class Profile:
    """What the ranker knows of one reader."""

    positives: Sequence[Any] = ()  # library entries (title, abstract, authors, when)
    negatives: Sequence[Any] = ()  # "less like this" votes
    votes: Sequence[Any] = ()  # "more like this" votes (the page's feedback export)
    keywords: dict[str, float] = field(default_factory=dict)
    authors: Sequence[str] = ()
    exclude: Sequence[str] = ()

    @property
    def empty(self) -> bool:
        return not (self.positives or self.votes or self.keywords or self.authors)


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


def _newest(entries: Sequence[Any], limit: int = MAX_VOTES) -> list[Any]:
    if len(entries) <= limit:
        return list(entries)
    order = sorted(range(len(entries)), key=lambda i: _timestamp(get(entries[i], "when", None)), reverse=True)
    return [entries[i] for i in sorted(order[:limit])]


def _timestamp(when: Any) -> float:
    return when.timestamp() if isinstance(when, datetime) else float("-inf")


def _library_signal(
    day: Matrix, library: Matrix, entries: Sequence[Any], against: np.ndarray, params: Params
) -> np.ndarray:
    """Each paper's closeness to the library profile, 1.0 = as close as a typical library paper."""
    weights = recency_weights(entries) if params.recency else np.ones(library.rows)
    query = library.mean(weights) - params.beta * against
    own = library.dot(query)
    scale = float(np.average(own, weights=weights))
    if scale <= 1e-9:  # a library indistinguishable from the day: fall back to its plain spread
        scale = float(np.abs(own).max()) or 1.0
    return day.dot(query) / scale


def _closest(day: Matrix, library: Matrix, entries: Sequence[Any], params: Params) -> list[list[int]]:
    """Per paper, the library entries it shares most of its strongest words with (entries known by their title
    alone are never named: a title shares too few words to say what is alike)."""
    closest: list[list[int]] = [[] for _ in range(day.rows)]
    nameable = np.array([bool(str(get(e, "abstract") or "").strip()) for e in entries], dtype=bool)
    k = min(params.closest, int(nameable.sum()))
    if k == 0:
        return closest
    sims = day.strongest(NEIGHBOUR_TERMS).similarities(library.strongest(NEIGHBOUR_TERMS))
    sims[:, ~nameable] = 0.0
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < library.rows else np.tile(np.arange(k), (day.rows, 1))
    for i in range(day.rows):
        picks = sorted(top[i], key=lambda j: (-sims[i, j], j))
        closest[i] = [int(j) for j in picks if sims[i, j] > 0]
    return closest


def alike_floor(day: Matrix, params: Params) -> float:
    """The cosine above which two papers count as alike today: more than ``vote_alike`` percent of the day's own
    pairs share (a day of one field shares more words than a day of many), and at least ``vote_floor``."""
    rows = min(day.rows, ALIKE_SAMPLE)
    if rows < 3:
        return params.vote_floor
    step = max(1, day.rows // rows)
    sample = _rows(day, np.arange(0, day.rows, step)[:rows]) if step > 1 else day
    sims = sample.similarities(sample)
    pairs = sims[np.triu_indices(sample.rows, k=1)]
    return max(params.vote_floor, float(np.percentile(pairs, params.vote_alike)))


def _rows(matrix: Matrix, picks: np.ndarray) -> Matrix:
    starts, ends = matrix.indptr[picks], matrix.indptr[picks + 1]
    take = (
        np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)]) if len(picks) else np.zeros(0, int)
    )
    indptr = np.zeros(len(picks) + 1, dtype=np.int64)
    np.cumsum(ends - starts, out=indptr[1:])
    return Matrix(indptr, matrix.indices[take], matrix.data[take], matrix.width)


def _vote_signal(day: Matrix, votes: Matrix, floor: float, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Per paper: closeness to the votes (the mean cosine of its nearest few above the floor, in tenths) and the
    nearest vote (-1 when none is above the floor)."""
    if votes.rows == 0:
        return np.zeros(day.rows), np.full(day.rows, -1)
    sims = day.similarities(votes).astype(float)
    k = min(params.vote_neighbours, votes.rows)
    nearest = np.sort(sims, axis=1)[:, -k:]
    closeness = np.maximum(nearest - floor, 0.0).mean(axis=1) * 10.0
    best = np.argmax(sims, axis=1)
    best[sims[np.arange(day.rows), best] <= floor] = -1
    return closeness, best


def rank(papers: Sequence[Any], profile: Profile, params: Params | None = None) -> list[Ranked]:
    """``papers`` best first. Each paper needs ``id`` and ``title`` (``abstract`` and ``authors`` when known)."""
    if not papers:
        return []
    params = params or DEFAULT
    model = load_model()
    vocabulary = Vocabulary()
    # a reader whose library is only their votes: the "more" papers are the library
    entries = list(profile.positives) or _newest(profile.votes)
    more, less = _newest(profile.votes), _newest(profile.negatives)
    day = vectorize(papers, vocabulary, model)
    library = vectorize(entries, vocabulary, model)
    more_m = vectorize(more, vocabulary, model)
    less_m = vectorize(less, vocabulary, model)
    width = len(vocabulary)
    day, library, more_m, less_m = (m.resized(width) for m in (day, library, more_m, less_m))

    content = np.zeros(day.rows)
    closest: list[list[int]] = [[] for _ in range(day.rows)]
    if library.rows:
        n0 = params.background_docs if model.background else 0.0
        against = (day.rows * day.mean() + n0 * vocabulary.dense(model.background)) / (day.rows + n0)
        content = _library_signal(day, library, entries, against, params)
        closest = _closest(day, library, entries, params)
    floor = alike_floor(day, params) if more_m.rows or less_m.rows else params.vote_floor
    liked, liked_by = _vote_signal(day, more_m, floor, params)
    disliked, disliked_by = _vote_signal(day, less_m, floor, params)
    # nothing but "less" votes to go by: every paper starts halfway, and the votes only take away
    neutral = 0.5 if not (library.rows or profile.keywords or profile.authors) else 0.0
    context = _Context(profile, params, entries, more, less)
    out = [
        _ranked(
            paper,
            context,
            {
                "library": float(content[i]) if library.rows else None,
                "votes_more": params.vote_more * float(liked[i]),
                "votes_less": -params.vote_less * float(disliked[i]),
            },
            neutral,
            closest[i],
            int(liked_by[i]),
            int(disliked_by[i]),
        )
        for i, paper in enumerate(papers)
    ]
    # best first; ties (same total) keep the input order
    order = sorted(range(len(out)), key=lambda i: (-out[i].total, i))
    return [out[i] for i in order]


@dataclass
class _Context:
    """What every paper's signals are measured against: the reader's authors, keywords, exclusions, votes."""

    profile: Profile
    params: Params
    entries: Sequence[Any]
    more: Sequence[Any]
    less: Sequence[Any]

    def __post_init__(self) -> None:
        self.library_authors: dict[str, str] = {}
        for entry in self.entries:
            for name in get(entry, "authors", []) or []:
                self.library_authors.setdefault(name_key(name), name)
        self.followed = {name_key(a): a for a in self.profile.authors}
        self.followed_initials = {_initial_key(k): a for k, a in self.followed.items()}
        self.keywords = [(p, _phrase(p), w) for p, w in self.profile.keywords.items()]
        self.excludes = [(p, _phrase(p)) for p in self.profile.exclude]
        phrases = [k[1] for k in self.keywords] + [e[1] for e in self.excludes]
        self.firsts = {ph[0][:4] for ph in phrases if ph}


def _ranked(
    paper: Any,
    ctx: _Context,
    similarity: dict[str, float | None],
    neutral: float,
    closest: list[int],
    liked_by: int,
    disliked_by: int,
) -> Ranked:
    params = ctx.params
    title = str(get(paper, "title") or "")
    text = f"{title} {get(paper, 'abstract') or ''}"
    lowered = text.lower()
    # a phrase can only match where its first word's stem starts (the cheap test first)
    words = _phrase(text) if any(first in lowered for first in ctx.firsts) else ()
    keys = [name_key(str(a)) for a in (get(paper, "authors", []) or [])]
    follow = [ctx.followed.get(k) or ctx.followed_initials.get(_initial_key(k)) for k in keys]
    follow_hits = sorted({f for f in follow if f})
    shared = [ctx.library_authors[k] for k in dict.fromkeys(keys) if k in ctx.library_authors and k not in ctx.followed]
    kw_hits = [(p, w) for p, ph, w in ctx.keywords if _contains(words, ph)]
    ex_hits = [p for p, ph in ctx.excludes if _contains(words, ph)]
    signals: dict[str, float] = {}
    if similarity["library"] is not None:
        signals["library"] = similarity["library"]
    for name in ("votes_more", "votes_less"):
        if similarity[name]:
            signals[name] = float(similarity[name] or 0.0)
    if kw_hits:
        signals["keywords"] = params.keyword * sum(w for _, w in kw_hits)
    if follow_hits:
        signals["authors"] = params.followed
    if shared:
        signals["coauthors"] = params.coauthor * min(len(shared), 2)
    if ex_hits:
        signals["exclude"] = -params.exclude * len(ex_hits)
    total = neutral + math.fsum(signals.values())
    titles = [str(get(ctx.entries[j], "title") or "") for j in closest]
    liked = str(get(ctx.more[liked_by], "title") or "") if liked_by >= 0 and "votes_more" in signals else None
    disliked = str(get(ctx.less[disliked_by], "title") or "") if disliked_by >= 0 and "votes_less" in signals else None
    reasons = in_words(signals, total, follow_hits, kw_hits, titles, shared, ex_hits, liked, disliked)
    return Ranked(
        id=str(get(paper, "id") or ""),
        title=title,
        score=score_of(total),
        total=total,
        signals=signals,
        reasons=reasons,
        closest=titles,
        paper=paper,
    )

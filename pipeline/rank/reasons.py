"""A ranked paper's reasons in words, the strongest first, each with its share of the score (the page's fold
shows the shares; the digest keeps the words)."""

from __future__ import annotations

import math


def _quote(title: str, limit: int = 90) -> str:
    title = " ".join(title.split())
    return f"“{title[: limit - 1]}…”" if len(title) > limit else f"“{title}”"


def _pct(part: float, whole: float) -> str:
    return f"{round(100 * part / whole)}%" if whole > 0 else "0%"


def in_words(
    signals: dict[str, float],
    total: float,
    follow_hits: list[str],
    kw_hits: list[tuple[str, float]],
    titles: list[str],
    shared: list[str],
    ex_hits: list[str],
    liked: str | None,
    disliked: str | None,
) -> list[str]:
    """The reasons in words, the strongest first; each with its share of the score (the page's fold shows them)."""
    whole = math.fsum(abs(v) for v in signals.values())
    found: list[tuple[float, str, str]] = []  # (weight, what, the titles it names)
    if follow_hits:
        found.append((signals["authors"], f"followed author: {', '.join(follow_hits)}", ""))
    if kw_hits:
        found.append((signals["keywords"], f"keywords: {', '.join(p for p, _ in kw_hits)}", ""))
    if "library" in signals:
        lib = signals["library"]
        if lib >= 0.5:
            lead = "close to your library"
        elif lib > 0.15:
            lead = "somewhat like your library"
        else:
            lead = "little like your library"
        named = f": {'; '.join(_quote(t) for t in titles)}" if titles and lib > 0.15 else ""
        # a paper that scores high for another reason is not described by what it lacks
        if lib > 0.15 or total < 0.5 or len(signals) == 1:
            found.append((abs(lib), lead, named))
    if liked is not None:
        found.append((signals["votes_more"], "like a paper you marked “more”", f": {_quote(liked)}"))
    if disliked is not None:
        found.append((abs(signals["votes_less"]), "like a paper you marked “less”", f": {_quote(disliked)}"))
    if shared:
        found.append((signals["coauthors"], f"shares authors with your library: {', '.join(shared[:3])}", ""))
    if ex_hits:
        found.append((abs(signals["exclude"]), f"excluded: {', '.join(ex_hits)}", ""))
    if not found:
        return ["matches none of your keywords or authors"]
    # followed authors and keywords first (what the reader asked for), then by weight
    asked = [r for r in found[: bool(follow_hits) + bool(kw_hits)]]
    rest = sorted(found[len(asked) :], key=lambda r: -r[0])
    return [f"{what} ({_pct(weight, whole)}){named}" for weight, what, named in asked + rest]

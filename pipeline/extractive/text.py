"""Sentence splitting for scientific abstracts.

Splits at . ! ? followed by space and a sentence start, but not after abbreviations ("e.g.", "i.e.",
"et al.", "Fig."), dotted acronyms, or inside numbers and URLs (which contain no space).
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    "e.g i.e et al etc vs cf fig figs eq eqs sec secs tab no nos approx resp ref refs dr mr mrs ms prof st jr sr "
    "inc ltd co corp viz ca ch pp vol eds ed".split()
)
# A boundary candidate: terminal punctuation (optionally closed by quotes/brackets), whitespace, then
# something that can start a sentence.
_BOUNDARY = re.compile(r"([.!?])([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD_CHAR = re.compile(r"[\w.]")
_LONGEST_WORD = 40  # no abbreviation or dotted acronym is longer: the look back stops here (linear splitting)


def _word_before(text: str, start: int, end: int) -> str | None:
    """The word (letters, digits, dots) that ends at ``end``, after a space or bracket or at ``start``; None when
    there is none or it is longer than any abbreviation. Reads at most `_LONGEST_WORD` characters back, so a
    text of abbreviations ("e.g. A e.g. A ...") splits in linear time."""
    low = max(start, end - _LONGEST_WORD - 1)
    i = end
    while i > low and _WORD_CHAR.match(text, i - 1):
        i -= 1
    if i == end or (i == low and i > start and _WORD_CHAR.match(text, i - 1)):
        return None
    if i > start and not (text[i - 1].isspace() or text[i - 1] in "(["):
        return None
    return text[i:end]


_LETTERS_NO_ABBREVIATION = max(map(len, _ABBREVIATIONS)) + 1  # this many letters before a dot: a word, not one


def _is_abbreviation(text: str, start: int, end: int) -> bool:
    n = _LETTERS_NO_ABBREVIATION
    if end - start >= n and text[end - n : end].isalpha():
        return False  # the same answer as below, sooner: the last part of the word is longer than any abbreviation
    found = _word_before(text, start, end)
    if not found:
        return False
    word = found.lower().rstrip(".")
    if word in _ABBREVIATIONS or word.split(".")[-1] in _ABBREVIATIONS:
        return True
    # A dotted acronym ("U.S."); a lone capital ("method A.") ends sentences too often to count.
    return bool(re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", found))


def split_sentences(text: str, first: int | None = None) -> list[str]:
    """The sentences of ``text``, whitespace-normalised; never raises, never returns empty strings. With
    ``first``, only the first ``first`` of them (the same ones, found without reading further)."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if first is not None and len(sentences) >= first:
            return sentences
        if match.group(1) == "." and _is_abbreviation(text, start, match.start()):
            continue
        end = match.end(2)
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    if first is not None and len(sentences) >= first:
        return sentences
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 or w.isdigit()}


def align(claim: str, sentences: list[str], threshold: float = 0.5) -> list[int]:
    """Indices of the sentences a free-text claim restates (word overlap), best first; [] when none does."""
    words = _words(claim)
    if not words:
        return []
    scored = []
    for i, sentence in enumerate(sentences):
        own = _words(sentence)
        if own:
            overlap = len(words & own)
            scored.append((overlap / min(len(own), len(words)), i))
    hits = sorted(i for score, i in scored if score >= threshold)
    if hits:
        return hits
    best = max(scored, default=(0.0, -1))
    return [best[1]] if best[0] >= 0.3 else []

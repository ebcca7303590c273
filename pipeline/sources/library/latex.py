"""LaTeX in BibTeX values, as text: pylatexenc decodes each command (accents, ``\\textbf{..}``, ``\\%``, math
symbols) and only the commands, so a long abstract costs what its few commands cost.

pylatexenc reads about 40 characters a millisecond: given a whole abstract it takes ~40 ms, and a 5,000-entry
library of arXiv abstracts (one in seven has a command) would take half a minute. Text between commands holds
only grouping braces, math dollars, ``~`` and dashes, which are plain to read. A command pylatexenc cannot read
(it raises on some macros given without their arguments) keeps its argument text instead of losing the entry.
"""

from __future__ import annotations

import logging

from pylatexenc.latex2text import LatexNodes2Text

# pylatexenc logs a warning for each macro it cannot substitute; the text it returns is what we keep.
logging.getLogger("pylatexenc").addHandler(logging.NullHandler())
logging.getLogger("pylatexenc").propagate = False
_DECODER = LatexNodes2Text()
_ACCENTS = frozenset("'\"`^~=.")
_LETTER_ACCENTS = frozenset("cvHukrdbt")  # \c c (Zotero writes {\c c}): the space then the letter it marks
# Text symbols pylatexenc reads as nothing (Zotero's escapes of <, > and |): "p {\textless} 0.05" keeps its "<".
_SYMBOLS = {
    "textless": "<",
    "textgreater": ">",
    "textbar": "|",
    "textbackslash": "\\",
    "textasciitilde": "~",
    "textasciicircum": "^",
    "textunderscore": "_",
    "textbraceleft": "{",
    "textbraceright": "}",
    "textquotedbl": '"',
}


def _plain(text: str) -> str:
    """Text without commands: grouping braces and math dollars dropped, ties as spaces, dashes as dashes."""
    for old, new in (("{", ""), ("}", ""), ("$", ""), ("~", " "), ("---", "\u2014"), ("--", "\u2013")):
        text = text.replace(old, new)
    return text


def _group_end(text: str, i: int) -> int:
    """The index after the brace group opening at ``i`` (the end of the text when it never closes)."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(text)


def _command_end(text: str, i: int) -> int:
    """The index after the command starting with the backslash at ``i``, its braced arguments included."""
    j = i + 1
    if j < len(text) and text[j].isalpha():
        while j < len(text) and text[j].isalpha():
            j += 1
        if j == i + 2 and text[i + 1] in _LETTER_ACCENTS:
            k = j
            while k < len(text) and text[k] == " ":
                k += 1
            if k > j and k < len(text) and text[k].isalpha():
                return k + 1  # {\c c}, {\v c}: the accent and its letter
    else:
        accent = j < len(text) and text[j] in _ACCENTS
        j = min(j + 1, len(text))
        if accent and j < len(text) and text[j] not in "{\\":
            return j + 1  # \'e
    while j < len(text) and text[j] == "{":
        j = _group_end(text, j)
    return j


def _fallback(span: str) -> str:
    """A command's argument text, without the command."""
    return _plain(span.lstrip("\\").lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))


MAX_SPAN = 1_000  # longer commands (a whole \\textbf{paragraph}) keep their text without pylatexenc
MAX_COMMANDS = 20_000  # per file: pylatexenc's ~0.5 ms a command stays bounded, however hostile the file


class Latex:
    """Decodes the values of one file: each distinct command read once, at most `MAX_COMMANDS` read at all."""

    def __init__(self, budget: int = MAX_COMMANDS) -> None:
        self.budget = budget
        self._seen: dict[str, str] = {}

    def _command(self, span: str) -> str:
        if len(span) == 4 and span[1] in _ACCENTS and span[2:] == "{}":  # Zotero's escape of a literal ^ or ~
            return span[1]
        if span in self._seen:
            return self._seen[span]
        symbol = _SYMBOLS.get(span[1:].rstrip("{}").strip())
        if symbol is not None:
            return symbol
        if len(span) > MAX_SPAN or self.budget <= 0:
            return _fallback(span)
        self.budget -= 1
        try:
            text = _DECODER.latex_to_text(span)
        except Exception:  # noqa: BLE001 - pylatexenc raises IndexError/AttributeError on malformed macros
            text = _fallback(span)
        if len(self._seen) < 100_000:
            self._seen[span] = text
        return text

    def text(self, value: str, limit: int = 100_000) -> str:
        """``value`` (a BibTeX value; its first ``limit`` characters) as plain Unicode text, whitespace runs single
        spaces."""
        value = value[:limit]
        if "\\" not in value:
            return " ".join(_plain(value).split())
        out: list[str] = []
        i = 0
        while True:
            start = value.find("\\", i)
            if start < 0:
                out.append(_plain(value[i:]))
                break
            out.append(_plain(value[i:start]))
            end = _command_end(value, start)
            out.append(self._command(value[start:end]))
            i = end
        return " ".join("".join(out).split())


def latex_text(value: str) -> str:
    """``value`` as plain text (one value on its own; a file's values share a `Latex`)."""
    return Latex().text(value)

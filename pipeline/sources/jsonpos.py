"""JSON values with the line each starts on: the standard decoder's ``raw_decode`` reads a value where it stands,
so the items of an array (a papers.json, a CSL-JSON export, a feedback export) are reported by line. An item nested
deeper than the decoder goes is `TOO_DEEP` and skipped to its end: it costs only itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class TooDeep:
    """Stands for a value nested deeper than the decoder goes (thousands of levels): that item is refused, the
    others are read."""

    def __repr__(self) -> str:
        return "TOO_DEEP"


TOO_DEEP = TooDeep()


def end_of(text: str, i: int) -> int:
    """The offset after the array or object starting at ``i``, found by counting brackets outside strings (no
    recursion, linear); a JSONDecodeError when it never closes."""
    depth = 0
    for token in _TOKENS.finditer(text, i):
        mark = token.group()
        if mark[0] == '"':
            continue
        depth += 1 if mark in "[{" else -1
        if depth == 0:
            return token.end()
    raise json.JSONDecodeError("an array or object that never closes", text, i)


class JsonCursor:
    """Offsets into one JSON text (already known to be valid): each value read where it stands with the standard
    decoder's ``raw_decode``, so the line it starts on is known; lines are counted once however many values."""

    _SPACE = " \t\r\n"
    _decoder = json.JSONDecoder()

    def __init__(self, text: str) -> None:
        self.text = text
        self._offset, self._line = 0, 1

    def skip(self, i: int) -> int:
        """The offset of the first non-blank character from ``i``."""
        while i < len(self.text) and self.text[i] in self._SPACE:
            i += 1
        return i

    def line(self, i: int) -> int:
        """The line of offset ``i`` (offsets asked in increasing order)."""
        self._line += self.text.count("\n", self._offset, i)
        self._offset = i
        return self._line

    def value(self, i: int) -> tuple[Any, int]:
        """The value at ``i`` and the offset after it; `TOO_DEEP` for one nested past the decoder's recursion."""
        try:
            return self._decoder.raw_decode(self.text, i)
        except RecursionError:
            return TOO_DEEP, end_of(self.text, i)

    def items(self, i: int) -> Iterator[tuple[int, Any]]:
        """The items of the array that starts at ``i``, each with its line."""
        i = self.skip(i + 1)
        while i < len(self.text) and self.text[i] != "]":
            line = self.line(i)
            value, i = self.value(i)
            yield line, value
            i = self.skip(i)
            if i < len(self.text) and self.text[i] == ",":
                i = self.skip(i + 1)


def tolerant(text: str) -> Any:
    """The whole JSON value of ``text`` when only some of its items are nested too deep to decode: a top-level
    array's items (or a top-level object's members, and the items of its arrays) read one by one, each too-deep
    one as `TOO_DEEP`. A JSONDecodeError when the text is not JSON."""
    cursor = JsonCursor(text)
    i = cursor.skip(0)
    if text[i : i + 1] == "[":
        return [value for _, value in cursor.items(i)]
    if text[i : i + 1] != "{":
        return cursor.value(i)[0]
    found: dict[str, Any] = {}
    i = cursor.skip(i + 1)
    while i < len(text) and text[i] != "}":
        key, i = cursor.value(i)
        i = cursor.skip(cursor.skip(i) + 1)  # past the colon
        if text[i : i + 1] == "[":
            found[str(key)] = [value for _, value in JsonCursor(text).items(i)]
            i = end_of(text, i)
        else:
            found[str(key)], i = cursor.value(i)
        i = cursor.skip(i)
        if i < len(text) and text[i] == ",":
            i = cursor.skip(i + 1)
    return found

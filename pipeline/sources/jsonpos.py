"""JSON values with the line each starts on: the standard decoder's ``raw_decode`` reads a value where it stands,
so the items of an array (a papers.json, a CSL-JSON export, a feedback export) are reported by line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


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
        """The value at ``i`` and the offset after it."""
        return self._decoder.raw_decode(self.text, i)

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

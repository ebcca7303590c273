"""BibTeX libraries (Zotero, Better BibTeX, Mendeley, JabRef, BibDesk, Google Scholar), read with bibtexparser 2.

bibtexparser splits the file into blocks and keeps going past a broken one (a ``ParsingFailedBlock`` with the
line it starts on), resolves ``@string`` macros and splits names by BibTeX's rules ('Last, First', 'First von
Last', '{Corporate Name}'). The values read are decoded from LaTeX by `latex` (pylatexenc, command by command).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.model import DuplicateBlockKeyBlock, Entry

from pipeline.errors import InputError
from pipeline.sources.library.latex import Latex
from pipeline.sources.library.model import (
    MAX_ABSTRACT_CHARS,
    MAX_TITLE_CHARS,
    LibraryEntry,
    build_entry,
    clean,
    find_arxiv,
    find_doi,
    moment,
    person,
    year_of,
)

# Its own reports of a broken block become our line-numbered problems; its log lines would only repeat them.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser").propagate = False

# When the reader added the paper: BibDesk/JabRef/Better BibTeX fields, then an access date (Zotero's urldate
# is the day a web item was saved).
_ADDED_FIELDS = ("date-added", "dateadded", "added-at", "creationdate", "timestamp", "urldate")
_KEYWORD_FIELDS = ("keywords", "mendeley-tags", "mendeley-groups", "groups", "collections", "tags")
_ARXIV_FIELDS = ("arxivid", "arxiv", "url", "doi", "note", "journal", "howpublished", "number")  # not prose: annote
_ADS_FIELDS = ("pages", "eid")  # ADS writes pages = {arXiv:1705.05823}: an id only when it says arXiv


def _name(part: list[str], latex: Latex) -> str:
    return latex.text(" ".join(part), 1_000) if part else ""


def _authors(value: Any, latex: Latex) -> list[str]:
    if isinstance(value, str):
        return [latex.text(value, 1_000)] if value.strip() else []
    names = []
    for parts in value if isinstance(value, list) else []:
        if hasattr(parts, "last"):
            names.append(person(*(_name(p, latex) for p in (parts.last, parts.first, parts.von, parts.jr))))
    return names


def _entry(block: Entry, path: str, latex: Latex) -> LibraryEntry | InputError:
    fields = {key.lower(): f.value for key, f in block.fields_dict.items()}
    text = {k: v for k, v in fields.items() if isinstance(v, str)}
    line = (block.start_line or 0) + 1
    prefix = (text.get("archiveprefix") or text.get("eprinttype") or "").lower()
    eprint = text.get("eprint", "")
    arxiv = find_arxiv(f"arxiv:{eprint}") if eprint and prefix in ("arxiv", "") else None
    arxiv = arxiv or find_arxiv(*(text.get(name) for name in _ARXIV_FIELDS))
    ads = (text.get(name) or "" for name in _ADS_FIELDS)
    arxiv = arxiv or find_arxiv(*(value for value in ads if "arxiv" in value.lower()))
    added = next((m for m in (moment(text.get(name)) for name in _ADDED_FIELDS) if m is not None), None)
    keywords: list[str] = []
    for name in _KEYWORD_FIELDS:
        if text.get(name):
            keywords.extend(p for p in latex.text(text[name], 20_000).replace(";", ",").split(",") if p.strip())
    return build_entry(
        title=latex.text(text.get("title") or "", 4 * MAX_TITLE_CHARS),
        path=path,
        line=line,
        fmt="bibtex",
        abstract=latex.text(text.get("abstract", ""), 2 * MAX_ABSTRACT_CHARS),
        authors=_authors(fields.get("author") or fields.get("editor"), latex),
        arxiv=arxiv,
        doi=text.get("doi") or find_doi(text.get("note"), text.get("extra"), text.get("annote")),
        url=text.get("url"),
        year=year_of(text.get("year"), text.get("date")),
        published=moment(text.get("date")) or _month_of(text.get("year"), text.get("month")),
        added=added,
        keywords=keywords,
        kind=block.entry_type,
        volume=text.get("volume"),
        item_key=block.key,
    )


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _month_of(year: str | None, month: str | None) -> datetime | None:
    """The first day of ``month`` ('aug', 'August', '8') of ``year``, when both are there."""
    name = (month or "").strip().lower()[:3]
    number = _MONTHS.index(name) + 1 if name in _MONTHS else int(name) if name.isdigit() else 0
    found = year_of(year)
    return moment(f"{found:04d}-{number:02d}-01") if found and 1 <= number <= 12 else None


def _failure(block: Any) -> str:
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", None) or (str(error) if error else "")
    return clean(reason)[:300] or "this entry cannot be read as BibTeX"


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")  # fmt: skip


def _pieces(value: str) -> list[str] | None:
    """The operands of a BibTeX ``#`` concatenation (``nerf # " for View Synthesis"``), split outside braces and
    quotes in one pass; None when the value is no concatenation."""
    pieces, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            pieces.append(value[start:i].strip())
            start = i + 1
    return [*pieces, value[start:].strip()] if pieces else None


def _operand(piece: str, strings: dict[str, str]) -> str:
    """One operand's text: a quoted or braced literal without its delimiters, a number, or a macro's value
    (``@string`` names, then the standard month names); an unknown name stays as written."""
    if len(piece) >= 2 and (piece[0], piece[-1]) in (("{", "}"), ('"', '"')):
        return piece[1:-1]
    name = piece.lower()
    if name in strings:
        return strings[name]
    return _MONTH_NAMES[_MONTHS.index(name)] if name in _MONTHS else piece


class _Concatenate(middlewares.LibraryMiddleware):
    """Resolves ``#`` concatenations in ``@string`` values and fields, which bibtexparser 2 leaves literal; runs
    before its own string resolution, and leaves each result braced for its enclosing removal."""

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True)

    @classmethod
    def metadata_key(cls) -> str:
        return "summarize-concatenate"

    def transform(self, library: Any) -> Any:
        strings: dict[str, str] = {}
        for block in library.strings:  # in file order: a macro may use the ones defined before it
            pieces = _pieces(block.value) if isinstance(block.value, str) else None
            if pieces is not None:
                block.value = "{" + "".join(_operand(p, strings) for p in pieces) + "}"
            strings[block.key.lower()] = _operand(block.value, {}) if isinstance(block.value, str) else ""
        for entry in library.entries:
            for field in entry.fields:
                pieces = _pieces(field.value) if isinstance(field.value, str) else None
                if pieces is not None:
                    field.value = "{" + "".join(_operand(p, strings) for p in pieces) + "}"
        return library


def read_bibtex(text: str, path: str) -> Iterator[LibraryEntry | InputError]:
    """The entries of a BibTeX file in order, each broken block as an error on the line it starts on."""
    stack = [
        _Concatenate(),
        middlewares.ResolveStringReferencesMiddleware(True),
        middlewares.RemoveEnclosingMiddleware(True),
        middlewares.SeparateCoAuthors(),
        middlewares.SplitNameParts(),
    ]
    library = bibtexparser.parse_string(text, parse_stack=stack)
    latex = Latex()
    found: list[tuple[int, LibraryEntry | InputError]] = []
    for block in library.entries:
        found.append(((block.start_line or 0), _entry(block, path, latex)))
    for failed in library.failed_blocks:
        start = failed.start_line or 0
        if isinstance(failed, DuplicateBlockKeyBlock) and isinstance(failed.ignore_error_block, Entry):
            # Two entries under one citation key are still two papers (or the same one, merged by id later).
            found.append((start, _entry(failed.ignore_error_block, path, latex)))
            continue
        found.append((start, InputError(f"malformed BibTeX entry: {_failure(failed)}", path=path, line=start + 1)))
    for _, item in sorted(found, key=lambda pair: pair[0]):
        yield item

"""RIS libraries (Zotero, Mendeley, EndNote, publishers' "export citation"), read with rispy.

rispy reads tags into named fields; it does not say where a record starts, and a record that misses its ``ER``
line would silently swallow the next one. The parser below is rispy's own, told to note each record's first
line and to split a record that a second ``TY`` starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rispy import RisParser

from pipeline.errors import InputError
from pipeline.sources.library.model import (
    LibraryEntry,
    build_entry,
    find_arxiv,
    find_doi,
    inverted_name,
    moment,
    year_of,
)

_LINE = "__line__"


class _NumberedParser(RisParser):
    """rispy's parser, noting the line each record starts on and the records left unfinished."""

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.started: list[dict[str, Any]] = []
        self.unfinished: list[dict[str, Any]] = []

    def lines(self, text: str) -> Iterator[str]:
        for self.line, raw in enumerate(text.splitlines(), start=1):  # noqa: B020 - the count is the point
            yield raw.rstrip()

    def _iter_till_start(self, lines: Any) -> dict:
        record = super()._iter_till_start(lines)
        record[_LINE] = self.line
        self.started.append(record)
        return record

    def _add_tag(self, record: dict, tag: str, line: str, extend_multiline: bool = False) -> None:
        if tag == self.START_TAG:  # a new record before this one's ER: this one ends unfinished here
            self.unfinished.append(dict(record))
            record.clear()
            record[self.mapping[tag]] = line
            record[_LINE] = self.line
            return
        super()._add_tag(record, tag, line, extend_multiline=extend_multiline)


def _entry(record: dict[str, Any], path: str) -> LibraryEntry | InputError:
    line = record.get(_LINE)
    titles = [record.get(name) for name in ("title", "primary_title", "translated_title", "short_title")]
    title = next((t for t in titles if isinstance(t, str) and t.strip()), None)
    names = [n for key in ("authors", "first_authors") for n in record.get(key) or [] if isinstance(n, str)]
    urls = [u for u in record.get("urls") or [] if isinstance(u, str)]
    notes = [n for n in record.get("notes") or [] if isinstance(n, str)]
    texts = [*urls, *notes, record.get("doi"), record.get("number"), record.get("note")]
    abstract = record.get("abstract") or record.get("notes_abstract") or ""
    return build_entry(
        title=title,
        path=path,
        line=line,
        fmt="ris",
        abstract=abstract if isinstance(abstract, str) else "",
        authors=[inverted_name(n) for n in names],
        arxiv=find_arxiv(*(t for t in texts if isinstance(t, str))),
        doi=record.get("doi") or find_doi(*notes),
        url=next((u for u in urls if u.strip()), None),
        year=year_of(record.get("year"), record.get("publication_year"), record.get("date")),
        published=moment(record.get("date")),
        added=moment(record.get("access_date")),
        keywords=[k for k in record.get("keywords") or [] if isinstance(k, str)],
        kind=record.get("type_of_reference"),
        volume=record.get("volume"),
        item_key=record.get("id"),
    )


def read_ris(text: str, path: str) -> Iterator[LibraryEntry | InputError]:
    """The records of a RIS file in order; one without its ``ER`` line is an error on the line it starts on."""
    parser = _NumberedParser()
    finished = parser.parse_lines(parser.lines(text))
    done = {id(record) for record in finished}
    broken = {id(record) for record in parser.unfinished}
    for record in sorted(parser.started + parser.unfinished, key=lambda r: r.get(_LINE) or 0):
        if id(record) in done:
            yield _entry(record, path)
        elif id(record) in broken or record is parser.started[-1]:
            yield InputError("RIS record without its closing 'ER  -' line", path=path, line=record.get(_LINE))

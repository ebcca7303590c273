"""JSON libraries: Zotero's CSL-JSON, the page's feedback export, and our own JSON arrays of papers.

Python's JSON decoder reads one value at a time from a given offset (``raw_decode``), so each item of an array is
parsed where it stands and its line is known: a bad item is reported on the line it starts on, the rest are used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from typing import Any, cast

from pipeline.errors import InputError
from pipeline.sources.files import read_json
from pipeline.sources.identity import make_paper
from pipeline.sources.jsonpos import TOO_DEEP, JsonCursor, tolerant
from pipeline.sources.library.model import (
    LibraryEntry,
    build_entry,
    find_arxiv,
    find_doi,
    inverted_name,
    moment,
    person,
    split_keywords,
    year_of,
)
from pipeline.values import MAX_META_DEPTH, json_depth

FEEDBACK_FORMAT = "summarize-feedback"
FEEDBACK_VERSION = 1
# Keys only CSL-JSON items have (our own paper lists write 'authors', 'url', 'published').
_CSL_KEYS = frozenset({"author", "issued", "DOI", "URL", "container-title", "citation-key", "accessed", "editor"})


def _members(cursor: JsonCursor, i: int) -> Iterator[tuple[str, int, Any]]:
    """(key, offset of the value, value or None for an array left to `JsonCursor.items`) of the object at ``i``."""
    text = cursor.text
    i = cursor.skip(i + 1)
    while i < len(text) and text[i] != "}":
        key, i = cursor.value(i)
        i = cursor.skip(cursor.skip(i) + 1)  # past the colon
        if text[i] == "[":
            yield key, i, None
            _, i = cursor.value(i)
        else:
            value, i = cursor.value(i)
            yield key, i, value
        i = cursor.skip(i)
        if i < len(text) and text[i] == ",":
            i = cursor.skip(i + 1)


def parse(text: str, path: str) -> Any:
    """The whole value (for sniffing and validation), or the error saying where the JSON breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg}, column {exc.colno})", path=path, line=exc.lineno) from exc
    except RecursionError:  # an item nested thousands deep: only that item is refused (`_shallow`)
        try:
            return tolerant(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON ({exc.msg}, column {exc.colno})", path=path, line=exc.lineno) from exc
    except ValueError as exc:  # an integer of thousands of digits
        raise InputError(f"unreadable JSON ({exc})", path=path) from exc


def kind(value: Any) -> str | None:
    """'feedback', 'csl-json' or 'json' (a paper list) for a parsed JSON file; None for another shape."""
    if isinstance(value, dict) and value.get("format") == FEEDBACK_FORMAT:
        return "feedback"
    if isinstance(value, list):
        objects = [item for item in value[:50] if isinstance(item, dict)]
        return "csl-json" if any(_CSL_KEYS & item.keys() for item in objects) else "json"
    return None


def _shallow(value: Any, path: str, line: int) -> InputError | None:
    if value is TOO_DEEP:
        return InputError(f"item nested deeper than {MAX_META_DEPTH} levels", path=path, line=line)
    if not isinstance(value, dict):
        return InputError(f"expected a JSON object, not {type(value).__name__}", path=path, line=line)
    if json_depth(value) > MAX_META_DEPTH:
        return InputError(f"item nested deeper than {MAX_META_DEPTH} levels", path=path, line=line)
    return None


def _csl_name(name: Any) -> str:
    if isinstance(name, dict):
        if isinstance(name.get("literal"), str):
            return name["literal"]
        parts = [name.get(k) for k in ("family", "given", "non-dropping-particle", "suffix")]
        if all(p is None or isinstance(p, str) for p in parts) and parts[0]:
            return person(parts[0], parts[1] or "", parts[2] or "", parts[3] or "")
    raise ValueError("an author must be an object with 'family' (and 'given') or 'literal'")


def _has_day(issued: Any) -> bool:
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    return isinstance(parts, list) and bool(parts) and isinstance(parts[0], list) and len(parts[0]) >= 3


def _csl_entry(item: dict[str, Any], path: str, line: int) -> LibraryEntry | InputError:
    try:
        names = item.get("author") or []
        if not isinstance(names, list):
            raise ValueError("'author' must be a list of names")
        authors = [_csl_name(n) for n in names]
        title = item.get("title")
        if title is not None and not isinstance(title, str):
            raise ValueError(f"'title' must be text, not {type(title).__name__}")
    except ValueError as exc:
        return InputError(str(exc), path=path, line=line)
    texts = [item.get(k) for k in ("URL", "note", "number", "archive_location", "DOI")]
    return build_entry(
        title=title,
        path=path,
        line=line,
        fmt="csl-json",
        abstract=item.get("abstract", ""),
        authors=authors,
        arxiv=find_arxiv(*texts),
        doi=item.get("DOI") or find_doi(item.get("note")),
        url=item.get("URL"),
        year=year_of(item.get("issued")),
        published=moment(item.get("issued")) if _has_day(item.get("issued")) else None,
        added=moment(item.get("accessed")),
        keywords=split_keywords(item.get("keyword"), item.get("categories")),
        kind=item.get("type"),
        volume=item.get("volume"),
        item_key=item.get("id"),
    )


def read_csl(text: str, path: str) -> Iterator[LibraryEntry | InputError]:
    """The items of a CSL-JSON array (Zotero's "CSL JSON" export), each on the line it starts on."""
    cursor = JsonCursor(text)
    for line, item in cursor.items(cursor.skip(0)):
        problem = _shallow(item, path, line)
        yield problem or _csl_entry(item, path, line)


# Zotero's CSV export: its columns, as our names.
_ZOTERO_CSV = {
    "abstract note": "abstract",
    "publication year": "year",
    "date added": "added",
    "manual tags": "keywords",
    "key": "item_key",
    "item type": "type",
}


def _zotero_csv(row: dict[str, Any]) -> dict[str, Any]:
    """A row of Zotero's CSV export in our fields: 'Last, First; Last, First' authors, tags split on ';'."""
    fields = {_ZOTERO_CSV.get(k, k): v for k, v in row.items() if k not in ("author", "automatic tags")}
    fields["authors"] = [inverted_name(a) for a in str(row.get("author") or "").split(";") if a.strip()]
    fields["keywords"] = split_keywords(str(row.get("manual tags") or ""), str(row.get("automatic tags") or ""))
    return fields


def make_entry(
    fields: dict[str, Any], *, source: str, path: str, line: int, fmt: str = "jsonl"
) -> LibraryEntry | InputError:
    """A library entry from one of our own paper objects (a JSONL line, JSON item, CSV row, corpus record), read
    by `make_paper` (the abstract may be empty); ``vote``, ``keywords``/``tags`` and ``added``/``at`` come from
    its extra fields."""
    if fmt == "csv" and "abstract note" in fields:
        fields = _zotero_csv(fields)
    paper = make_paper(fields, source=source, path=path, line=line, require_abstract=False)
    if isinstance(paper, InputError):
        return paper
    meta = paper.meta
    vote = meta.get("vote", "more")
    if vote not in ("more", "less"):
        return InputError(f'\'vote\' must be "more" or "less", not {str(vote)[:40]!r}', path=path, line=line)
    added = next((m for m in (moment(meta.get(k)) for k in ("added", "date_added", "dateAdded", "at")) if m), None)
    return build_entry(
        title=paper.title,
        path=path,
        line=line,
        fmt=fmt,
        abstract=paper.abstract,
        authors=paper.authors,
        given_id=paper.id if fields.get("id") else None,  # the id the file gives (a corpus id), normalised
        arxiv=None if paper.id.startswith("arxiv:") else find_arxiv(meta.get("extra"), meta.get("note")),
        doi=meta.get("doi") or meta.get("DOI") or find_doi(meta.get("extra"), meta.get("note")),
        url=paper.url,
        year=year_of(paper.published, meta.get("year")),
        published=moment(paper.published) if paper.published and len(paper.published) >= 10 else None,
        added=added,
        keywords=split_keywords(meta.get("keywords"), meta.get("tags")),
        vote=vote,
        kind=meta.get("type") if fmt != "feedback" else None,
        volume=meta.get("volume"),
        item_key=meta.get("item_key") or meta.get("key"),
    )


def read_paper_array(text: str, path: str) -> Iterator[LibraryEntry | InputError]:
    """A JSON array of our own paper objects (``papers.json``), read by the input reader."""
    return cast(
        Iterator[LibraryEntry | InputError], read_json(text.encode(), path, make=partial(make_entry, fmt="json"))
    )


def read_feedback(text: str, path: str) -> Iterator[LibraryEntry | InputError]:
    """The page's "Export feedback" file: each vote an entry ("less": a negative), its time the date added."""
    whole = parse(text, path)
    version = whole.get("version") if isinstance(whole, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FEEDBACK_VERSION:
        raise InputError(
            f"feedback export of version {str(version)[:20]}; this summarize reads version {FEEDBACK_VERSION}",
            path=path,
        )
    if not isinstance(whole.get("items"), list):
        raise InputError("feedback export without its list of 'items'", path=path)
    cursor = JsonCursor(text)
    for key, offset, value in _members(cursor, cursor.skip(0)):
        if key != "items" or value is not None:
            continue
        for line, item in cursor.items(offset):
            problem = _shallow(item, path, line)
            if problem:
                yield problem
            elif "vote" not in item:
                yield InputError('a vote without \'vote\' ("more" or "less")', path=path, line=line)
            else:
                yield make_entry(item, source=path, path=path, line=line, fmt="feedback")

"""What identifies a paper, and a `Paper` from the loose fields an input gives.

The contract's id rule (an arXiv id from the given id or the URL, else the given id, else a hash of the normalised
title) and `make_paper`, which every file reader (and the library) builds its papers with.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pipeline.errors import InputError
from pipeline.schema import Paper
from pipeline.values import MAX_META_DEPTH, bounded_date, check_id, json_depth

_ARXIV = re.compile(
    r"(?:arxiv[:/]|arxiv\.org/(?:abs|pdf|html)/|^)"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v(?P<v>\d+))?(?:\.pdf)?$",
    re.IGNORECASE,
)

Item = Paper | InputError


def arxiv_id(value: str | None) -> tuple[str, int | None] | None:
    """``(id, version)`` when ``value`` is an arXiv id or abs/pdf URL, else None."""
    if not value:
        return None
    match = _ARXIV.search(value.strip().rstrip("/"))
    if not match:
        return None
    version = match.group("v")
    return match.group("id"), int(version) if version else None


def title_key(title: str) -> str:
    """The normalised form of a title: same paper, same key, whatever the case and punctuation."""
    return " ".join(re.sub(r"[^\w]+", " ", title.lower()).split())


def paper_identity(given: str | None, url: str | None, title: str) -> tuple[str, int | None]:
    """The stable record id (and arXiv version) by the contract's rule."""
    for candidate in (given, url):
        found = arxiv_id(candidate)
        if found:
            return f"arxiv:{found[0]}", found[1]
    if given and given.strip():
        return given.strip(), None
    # A title of only symbols or emoji normalises to nothing: its exact text identifies it instead, so two
    # different papers never share an id.
    key = title_key(title) or "raw:" + " ".join(title.split())
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"title:{digest}", None


_depth = json_depth


def _text_field(fields: dict[str, Any], name: str) -> str | None:
    """A field that must be text (or absent); a number, list or object there is an error naming the field."""
    value = fields.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name!r} must be text, not {type(value).__name__}")
    return value


def make_paper(fields: dict[str, Any], *, source: str, path: str, line: int, require_abstract: bool = True) -> Item:
    """A `Paper` from loose fields (title and abstract required, unless a library entry known by its title only),
    or the error saying what is missing."""
    try:
        title = " ".join((_text_field(fields, "title") or "").split())
        abstract = " ".join((_text_field(fields, "abstract") or _text_field(fields, "summary") or "").split())
        url = _text_field(fields, "url")
        given_id = _text_field(fields, "id") if not isinstance(fields.get("id"), int) else str(fields["id"])
        published = _text_field(fields, "published")
        authors = fields.get("authors") or []
        if isinstance(authors, str):
            authors = [a.strip() for a in re.split(r";|,| and ", authors) if a.strip()]
        if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
            raise ValueError("'authors' must be text or a list of names")
    except ValueError as exc:
        return InputError(str(exc), path=path, line=line)
    if not title:
        return InputError("missing title", path=path, line=line)
    if not abstract and require_abstract:
        return InputError(f"empty abstract for {title[:60]!r}", path=path, line=line, title=title)
    pid, version = paper_identity(given_id, url, title)
    try:
        check_id(pid)
    except ValueError as exc:
        return InputError(str(exc), path=path, line=line, title=title)
    if url is None and pid.startswith("arxiv:"):  # an arXiv id alone still links the title to its page
        url = f"https://arxiv.org/abs/{pid.removeprefix('arxiv:')}"
    known = {"id", "title", "abstract", "summary", "url", "authors", "published"}
    meta = {k: v for k, v in fields.items() if k not in known and v not in (None, "")}
    if _depth(meta) > MAX_META_DEPTH:
        return InputError(f"metadata nested deeper than {MAX_META_DEPTH} levels", path=path, line=line, title=title)
    if published is not None and bounded_date(published) is None:  # kept as given, never a date a writer reads
        meta["published_as_given"] = published[:64]
        published = None
    return Paper(
        id=pid,
        title=title,
        abstract=abstract,
        url=url,
        authors=[" ".join(a.split()) for a in authors if a.strip()],
        published=published,
        source=source,
        version=version,
        meta=meta,
    )

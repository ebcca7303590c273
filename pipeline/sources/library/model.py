"""What a library entry is, and the rules every format's reader shares to make one.

A reader turns its format's fields into the few arguments of :func:`build_entry`; the id, the names, the dates
and the bounds are decided here, once, so a paper reads the same from BibTeX, RIS, CSL-JSON or a JSONL list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import InputError
from pipeline.sources.identity import arxiv_id, paper_identity, title_key
from pipeline.values import check_id

Vote = Literal["more", "less"]

MAX_TITLE_CHARS = 2_000
MAX_ABSTRACT_CHARS = 20_000  # a library abstract only describes an interest: the rest of a longer one is cut
MAX_AUTHORS = 500
MAX_KEYWORDS = 200
MAX_KEYWORD_CHARS = 200
MIN_YEAR, MAX_YEAR = 1000, 2999


@dataclass(frozen=True)
class Limits:
    """Bounds on what one library may hold: every reader stops at them, saying so."""

    max_bytes: int = 64 * 1024 * 1024  # per file
    max_entries: int = 100_000  # over all files
    max_problems: int = 1_000  # kept and printed; the rest are counted


class LibraryEntry(BaseModel):
    """One paper of the reader's library: what it is, when it joined the library, and whether it is wanted."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="'arxiv:<id>' as the corpus writes it, else 'doi:<doi>', else 'title:<hash>'.")
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    abstract: str = Field(default="", description="Empty when the export has none (the title still counts).")
    authors: list[str] = Field(default_factory=list, description="'First Last', in the export's order.")
    year: int | None = Field(default=None, ge=MIN_YEAR, le=MAX_YEAR, description="Year of publication.")
    published: datetime | None = Field(
        default=None, description="Its publication date, to the day or month the export gives."
    )
    added: datetime | None = Field(
        default=None, description="When the reader added it (Zotero's dateAdded, an access date, a vote's time), UTC."
    )
    keywords: list[str] = Field(default_factory=list, description="The export's keywords, tags and collections.")
    vote: Vote = Field(default="more", description="'less': a paper the reader does not want more of (a negative).")
    url: str | None = None
    doi: str | None = Field(default=None, description="The DOI, lower-cased, without a resolver prefix.")
    kind: str | None = Field(default=None, description="The export's item type (article, book, webpage…).")
    volume: str | None = Field(default=None, max_length=100, description="Its volume, when the export gives one.")
    item_key: str | None = Field(
        default=None,
        max_length=2000,
        description="The reference manager's own key for the item (Zotero's item URI or key, the citation key).",
    )
    source_file: str = Field(description="The file it was read from.")
    line: int | None = Field(default=None, description="The line of that file its entry starts on.")
    format: str = Field(description="bibtex, ris, csl-json, feedback, jsonl, csv or json.")

    @property
    def when(self) -> datetime | None:
        """The entry's date for recency: when it was added, else when it was published, else 1 January of its
        year (UTC)."""
        if self.added is not None or self.published is not None:
            return self.added or self.published
        return datetime(self.year, 1, 1, tzinfo=UTC) if self.year else None

    @property
    def text(self) -> str:
        """Title and abstract, as a ranker reads them."""
        return f"{self.title}\n\n{self.abstract}" if self.abstract else self.title


@dataclass
class LibraryFile:
    """One file of the library: its format and what it gave."""

    path: str
    format: str
    entries: int = 0  # read, merged ones included
    problems: int = 0
    merged: int = 0  # of the entries, those that were another entry's paper
    untitled: int = 0  # of the problems, entries without a title

    @property
    def line(self) -> str:
        """'read 250 entries from FILE (74 merged as duplicates, 84 without a title)', said once per file."""
        other = self.problems - self.untitled
        unreadable = f", {other} unreadable" if other else ""
        return (
            f"read {self.entries + self.problems:,} entries from {self.path} ({self.merged:,} merged as duplicates, "
            f"{self.untitled:,} without a title{unreadable})"
        )


MAX_MERGES = 1_000  # merges listed one by one (all are counted)


@dataclass
class Library:
    """The entries of every library file (one per paper), and the problems met reading them."""

    entries: list[LibraryEntry] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)
    files: list[LibraryFile] = field(default_factory=list)
    problems_left_out: int = 0
    merges: list[dict[str, Any]] = field(default_factory=list)  # each: kept, merged (file:line), by, title

    @property
    def positives(self) -> list[LibraryEntry]:
        return [e for e in self.entries if e.vote == "more"]

    @property
    def negatives(self) -> list[LibraryEntry]:
        return [e for e in self.entries if e.vote == "less"]

    def lacking_abstract(self) -> list[LibraryEntry]:
        """Entries known by their title only (``--resolve`` fills those with an arXiv id)."""
        return [e for e in self.entries if not e.abstract]

    def fill_from(self, papers: Iterable[Any]) -> int:
        """Entries without an abstract take the abstract (and authors) of the same paper in ``papers`` (objects or
        dicts with ``id``, ``title``, ``abstract``, ``authors``: the day's papers, corpus records), matched by id,
        else by title: a vote exported from the page finds its paper's text in the corpus. How many were filled."""
        wanting = {e.id: i for i, e in enumerate(self.entries) if not e.abstract}
        by_title = {title_key(self.entries[i].title): i for i in wanting.values()}
        filled = 0
        for paper in papers:
            if filled == len(wanting):
                break
            field = paper.get if isinstance(paper, dict) else lambda name, p=paper: getattr(p, name, None)
            abstract = field("abstract")
            if not isinstance(abstract, str) or not abstract.strip():
                continue
            at = wanting.get(str(field("id")))
            if at is None:
                at = by_title.get(title_key(str(field("title") or "")))
            if at is None or self.entries[at].abstract:
                continue
            entry = self.entries[at]
            authors = field("authors")
            self.entries[at] = entry.model_copy(
                update={
                    "abstract": clean(abstract)[:MAX_ABSTRACT_CHARS],
                    "authors": entry.authors or [a for a in authors or [] if isinstance(a, str)][:MAX_AUTHORS],
                }
            )
            filled += 1
        return filled

    def describe(self) -> dict[str, Any]:
        """What run.json says about the library."""
        return {
            "files": [
                {
                    "path": f.path,
                    "format": f.format,
                    "entries": f.entries,
                    "problems": f.problems,
                    "merged": f.merged,
                    "without_title": f.untitled,
                    "read": f.line,
                }
                for f in self.files
            ],
            "merged": sum(f.merged for f in self.files),
            "merges": self.merges[:100],
            "entries": len(self.entries),
            "positives": len(self.positives),
            "negatives": len(self.negatives),
            "without_abstract": len(self.lacking_abstract()),
            "problems": len(self.problems) + self.problems_left_out,
        }


# --- the shared rules ------------------------------------------------------------------------------------------


def clean(value: Any) -> str:
    """Text with its whitespace runs (line breaks, tabs, non-breaking spaces) made single spaces."""
    return " ".join(str(value).split()) if value is not None else ""


def person(last: str, first: str = "", von: str = "", jr: str = "") -> str:
    """'First von Last Jr.' from a name's parts: the form arXiv and the corpus write."""
    return clean(" ".join(part for part in (first, von, last, jr) if part and part.strip()))


def inverted_name(name: str) -> str:
    """'Mildenhall, Ben' (RIS, some lists) as 'Ben Mildenhall'; a name without a comma as given."""
    parts = [clean(p) for p in name.split(",")]
    if len(parts) == 2 and all(parts):
        return person(parts[0], parts[1])
    if len(parts) == 3 and all(parts):  # 'Smith, Jr., John'
        return person(parts[0], parts[2], jr=parts[1])
    return clean(name)


def split_keywords(*values: Any) -> list[str]:
    """Keywords from text ('a, b; c') or lists, in order, each once (case aside), bounded."""
    out: dict[str, str] = {}
    for value in values:
        items = value if isinstance(value, list) else re.split(r"[,;]", value) if isinstance(value, str) else []
        for item in items:
            word = clean(item)[:MAX_KEYWORD_CHARS] if isinstance(item, str) else ""
            if word and word.lower() not in out:
                out[word.lower()] = word
    return list(out.values())[:MAX_KEYWORDS]


def _from_text(value: str) -> datetime | None:
    text = clean(value).replace("/", "-").strip("-")
    if not text or len(text) > 64:
        return None
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}-\d{1,2}:.*", text):  # RIS: 2024/01/15/10:00:00
        head, _, clock = text.rpartition("-")
        text = f"{head} {clock}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    day = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})\b", text)  # a day followed by words fromisoformat refuses
    try:
        return datetime(int(day[1]), int(day[2]), int(day[3])) if day else None
    except ValueError:
        return None


def _from_csl(value: dict[str, Any]) -> datetime | None:
    """CSL: {"date-parts": [[2024, 1, 15]]} (numbers or digit strings, month and day optional) or {"raw": ...}."""
    parts = value.get("date-parts")
    if not (isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]):
        raw = value.get("raw") or value.get("literal")
        return _from_text(raw) if isinstance(raw, str) else None
    try:
        numbers = [int(p) for p in parts[0][:3]] + [1, 1]
        return datetime(numbers[0], numbers[1], numbers[2])
    except (TypeError, ValueError, OverflowError):
        return None


def moment(value: Any) -> datetime | None:
    """A UTC datetime from the date forms exports write ('2024-01-15 10:00:00 +0000', '2024/01/15/', ISO 8601,
    CSL date-parts), or None when it is no date between the years 1000 and 2999."""
    found: datetime | None = None
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        found = datetime(value.year, value.month, value.day)
    elif isinstance(value, dict):
        found = _from_csl(value)
    elif isinstance(value, str):
        found = _from_text(value)
    if found is None or not MIN_YEAR <= found.year <= MAX_YEAR:
        return None
    try:
        return found.astimezone(UTC) if found.tzinfo else found.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        return None


def year_of(*values: Any) -> int | None:
    """The first plausible year in ``values`` ('2020', '2020a', 'Mar 2020', 2020, a date)."""
    for value in values:
        if isinstance(value, int) and MIN_YEAR <= value <= MAX_YEAR:
            return value
        when = moment(value) if isinstance(value, dict | datetime | date) else None
        if when is not None:
            return when.year
        if isinstance(value, str):
            found = re.search(r"(?<!\d)(\d{4})(?!\d)", value)
            if found and MIN_YEAR <= int(found.group(1)) <= MAX_YEAR:
                return int(found.group(1))
    return None


def find_arxiv(*texts: Any) -> str | None:
    """The arXiv id free text names: 'arXiv:2003.08934 [cs]', 'arXiv: 2003.08934', an abs/pdf URL, arXiv's DOI.
    A bare number ('2003.08934') counts only as a whole value (a field that holds an id), never inside prose."""
    for text in texts:
        if not isinstance(text, str):
            continue
        tokens = [t.strip(",;()[]{}<>\"'") for t in text.split()]
        if len(tokens) == 1 and (found := arxiv_id(tokens[0])):
            return found[0]
        for token, following in zip(tokens, [*tokens[1:], ""]):
            if token.lower() == "arxiv:":  # Zotero's Extra field: 'arXiv: 2003.08934'
                token += following
            at = token.lower().find("10.48550/arxiv.")  # arXiv's DOI, bare or as a doi.org URL
            if at >= 0:
                token = "arxiv:" + token[at + len("10.48550/arxiv.") :]
            if "arxiv" in token.lower() and (found := arxiv_id(token)):
                return found[0]
    return None


_NOTED_DOI = re.compile(r"(?:^|[\s;,(])DOI:?\s*(10\.\d{4,9}/\S+)", re.IGNORECASE)


def find_doi(*texts: Any) -> str | None:
    """A DOI that free text names as one ("DOI: 10.4337/…", Zotero's Extra and BibTeX notes), lower-cased."""
    for text in texts:
        if isinstance(text, str) and (found := _NOTED_DOI.search(text)):
            return normal_doi(found.group(1).rstrip(".,;)"))
    return None


def normal_doi(value: Any) -> str | None:
    """A DOI lower-cased (DOIs are case-insensitive) without 'https://doi.org/' or 'doi:' before it."""
    text = clean(value).lower() if isinstance(value, str) else ""
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"):
        text = text.removeprefix(prefix)
    return text if text.startswith("10.") and "/" in text and len(text) <= 300 else None


def build_entry(
    *,
    title: Any,
    path: str,
    line: int | None,
    fmt: str,
    abstract: Any = "",
    authors: Iterable[str] = (),
    arxiv: str | None = None,
    doi: Any = None,
    url: Any = None,
    given_id: str | None = None,
    year: int | None = None,
    added: datetime | None = None,
    published: datetime | None = None,
    keywords: Iterable[str] = (),
    vote: Vote = "more",
    kind: Any = None,
    volume: Any = None,
    item_key: Any = None,
) -> LibraryEntry | InputError:
    """The entry, with its id by the corpus's rule (arXiv id, else DOI, else the title's hash), or the problem."""
    text = clean(title) if isinstance(title, str) else ""
    if not text:
        return InputError("missing title", path=path, line=line)
    if len(text) > MAX_TITLE_CHARS:
        return InputError(f"title of {len(text):,} characters; the limit is {MAX_TITLE_CHARS:,}", path=path, line=line)
    link = clean(url) if isinstance(url, str) and url.strip() else None
    doi_text = normal_doi(doi)
    arxiv = arxiv or find_arxiv(link or "", doi_text or "")
    given = f"arxiv:{arxiv}" if arxiv else given_id or (f"doi:{doi_text}" if doi_text else None)
    pid, _ = paper_identity(given, link, text)
    try:
        check_id(pid)
    except ValueError as exc:
        return InputError(str(exc), path=path, line=line)
    names = [n for n in (clean(a) for a in authors) if n and n.lower() not in ("others", "et al.", "et al")]
    return LibraryEntry(
        id=pid,
        title=text,
        abstract=clean(abstract)[:MAX_ABSTRACT_CHARS] if isinstance(abstract, str) else "",
        authors=names[:MAX_AUTHORS],
        year=year if year is not None and MIN_YEAR <= year <= MAX_YEAR else None,
        published=published,
        added=added,
        keywords=split_keywords(list(keywords)),
        vote=vote,
        url=link[:2000] if link else None,
        doi=doi_text,
        kind=clean(kind).lower()[:100] or None if isinstance(kind, str) else None,
        volume=clean(volume)[:100] or None if isinstance(volume, str | int) else None,
        item_key=clean(item_key)[:2000] or None if isinstance(item_key, str | int) else None,
        source_file=path,
        line=line,
        format=fmt,
    )

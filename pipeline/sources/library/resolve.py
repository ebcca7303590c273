"""``--resolve`` for a library: entries known by their title only get arXiv's abstract, through the run's resolver.

An entry with an arXiv id is looked up by it; one without is first matched by its exact (normalised) title, as
`Enricher.resolve_titles` does for inputs, and a match arXiv's own record does not confirm is left alone. Every
lookup goes through the enricher's cache, so a second ranking sends nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.schema import Paper
from pipeline.sources.enrich import Enricher
from pipeline.sources.identity import title_key
from pipeline.sources.library.model import Library, LibraryEntry, year_of
from pipeline.sources.library.reader import merge_entries


@dataclass
class LibraryResolve:
    """What resolving the library did, for run.json."""

    wanting: int = 0  # entries without an abstract
    filled: int = 0  # of those, now with arXiv's abstract
    resolved: int = 0  # titles matched to an arXiv id

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def _filled(entry: LibraryEntry, pid: str, record: dict) -> LibraryEntry:
    abstract = record.get("abstract")
    authors = [a for a in record.get("authors") or [] if isinstance(a, str)]
    return entry.model_copy(
        update={
            "id": f"arxiv:{pid}",
            "abstract": " ".join(abstract.split()) if isinstance(abstract, str) else "",
            "authors": entry.authors or authors,
            "year": entry.year or year_of(record.get("published")),
        }
    )


def resolve_library(library: Library, enricher: Enricher) -> LibraryResolve:
    """Fill ``library``'s entries that lack an abstract from arXiv (in place); what was done."""
    report = LibraryResolve()
    wanting = [e for e in library.entries if not e.abstract]
    report.wanting = len(wanting)
    if not wanting:
        return report
    titled = [e for e in wanting if not e.id.startswith("arxiv:")]
    stubs = [Paper(id=e.id, title=e.title, abstract="", source=e.source_file) for e in titled]
    found = enricher.resolve_titles(stubs) if stubs else {}
    ids = {e.id: e.id.removeprefix("arxiv:") for e in wanting if e.id.startswith("arxiv:")}
    for entry in titled:
        pid = found.get(title_key(entry.title))
        if pid:
            ids[entry.id] = pid
    records = enricher.arxiv_records(ids.values())
    updated: dict[str, LibraryEntry] = {}
    for entry in wanting:
        pid = ids.get(entry.id)
        record = records.get(pid) if pid else None
        if pid is None or record is None:
            continue
        if not entry.id.startswith("arxiv:"):
            if title_key(str(record.get("title") or "")) != title_key(entry.title):
                continue  # the search's match is not arXiv's paper: never a wrong id
            report.resolved += 1
        filled = _filled(entry, pid, record)
        report.filled += bool(filled.abstract)
        updated[entry.id] = filled
    library.entries = merge_entries(updated.get(e.id, e) for e in library.entries)
    return report

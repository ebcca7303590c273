"""The reader's library: the papers they care about, from the files people export, as one list of entries.

Formats: BibTeX (Zotero, Better BibTeX, Mendeley, JabRef, Google Scholar; bibtexparser 2), RIS (rispy),
Zotero's CSL-JSON, the page's feedback export, and our own JSONL / CSV / JSON paper lists or a corpus.jsonl (the
input readers of `pipeline.sources.files`, building library entries). A bad entry is a problem with its file and
line and the rest are read; a file that cannot be read at all is an `InputError` naming it.

    library = read_library(["zotero.bib", "feedback.json"])
    library.entries        # list[LibraryEntry], one per paper (merged across files by id, else by title)
    library.problems       # list[InputError]: str() is "file:line: what is wrong"
    library.lacking_abstract()   # the entries known by their title only
"""

from pipeline.sources.library.model import Library, LibraryEntry, LibraryFile, Limits
from pipeline.sources.library.reader import LIBRARY_FORMATS, detect, read_library

__all__ = ["LIBRARY_FORMATS", "Library", "LibraryEntry", "LibraryFile", "Limits", "detect", "read_library"]

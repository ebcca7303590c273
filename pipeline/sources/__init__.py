"""Where papers come from, and what is learnt about them before an engine reads them.

- `files`: the Hugging Face listing text, JSONL, JSON arrays and CSV (files or stdin).
- `identity`: a paper's stable id (arXiv id, given id, title hash) and the `Paper` built from an input's fields.
- `remote`: the HF daily-papers API and the arXiv API and feed.
- `http`: the bounded, polite GET they and `enrich` share (byte and time caps, retries honouring Retry-After).
- `enrich`: ``--resolve`` (arXiv ids for titles, arXiv metadata, the Hub's code and project links) and
  ``--full-text`` (the links a paper's own HTML or PDF gives), every lookup cached.
- `fulltext`: reading those links out of an arXiv HTML page or a PDF.
- `jsonpos`: JSON arrays read item by item with the line each starts on (papers.json, CSL-JSON, feedback).
- `library`: the reader's library for ranking (BibTeX, RIS, CSL-JSON, Zotero CSV, the page's feedback export and
  our own lists), entries with the corpus's ids and line-numbered problems.
"""

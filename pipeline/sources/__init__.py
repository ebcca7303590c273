"""Where papers come from, and what is learnt about them before an engine reads them.

- `files`: the Hugging Face listing text, JSONL, JSON arrays and CSV (files or stdin).
- `remote`: the HF daily-papers API and the arXiv API and feed, bounded and polite.
- `enrich`: ``--resolve`` (arXiv ids for titles, arXiv metadata, the Hub's code and project links) and
  ``--full-text`` (the links a paper's own HTML or PDF gives), every lookup cached.
"""

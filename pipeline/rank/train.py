"""Writes ``pipeline/rank/rank.json``: the ranker's global idf table and the mean vector of a large collection of
abstracts (the background a reader's library is contrasted with when the day is small).

    python -m pipeline.rank.train

The collection is the training abstracts the embedded engine learns from (CSAbstruct train, SciTLDR train, and
the modern arXiv train abstracts): ~4,800 computer-science abstracts from the 2010s to 2025. Train splits only; the
ranking dev cases are never read.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

from pipeline.rank.vectors import MODEL_FILE, IdfModel, Vocabulary, document_frequencies, vectorize

ROOT = Path(__file__).resolve().parents[2]
BACKGROUND_TERMS = 4000  # the largest weights of the mean vector; the rest are ~0


def _lines(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def training_abstracts(root: Path = ROOT) -> tuple[list[str], list[str]]:
    """The abstracts and the files they came from."""
    texts: list[str] = []
    used: list[str] = []
    sources = [
        (root / "data" / "csabstruct" / "train.jsonl", lambda d: " ".join(d["sentences"])),
        (root / "data" / "scitldr" / "train.jsonl", lambda d: " ".join(d["source"])),
    ]
    modern = [root / "data" / "modern" / "train.jsonl", root.parent / "shared" / "datasets" / "modern" / "train.jsonl"]
    found = next((p for p in modern if p.is_file()), None)
    if found is not None:
        sources.append((found, lambda d: f"{d['title']}. {d['abstract']}"))
    for path, text in sources:
        if path.is_file():
            texts.extend(text(d) for d in _lines(path))
            used.append(str(path.relative_to(root)) if root in path.parents else path.name)
    return texts, used


def build(texts: list[str], min_df: int = 2) -> dict:
    n, counts = document_frequencies(texts)
    idf = {w: round(math.log((n + 1) / (c + 1)) + 1, 3) for w, c in sorted(counts.items()) if c >= min_df}
    unseen = round(math.log(n + 1) + 1, 3)
    model = IdfModel(idf, unseen, {}, n)
    vocabulary = Vocabulary()
    matrix = vectorize([{"title": "", "abstract": t} for t in texts], vocabulary, model)
    mean = matrix.mean()
    terms = list(vocabulary.columns)
    top = sorted(range(len(terms)), key=lambda i: -mean[i])[:BACKGROUND_TERMS]
    background = {terms[i]: round(float(mean[i]), 6) for i in sorted(top, key=lambda i: terms[i]) if mean[i] > 0}
    return {"version": 1, "documents": n, "unseen": unseen, "idf": idf, "background": background}


def main() -> int:
    texts, used = training_abstracts()
    if not texts:
        print("no training abstracts found under data/", file=sys.stderr)
        return 1
    data = build(texts)
    data["sources"] = used
    MODEL_FILE.write_text(json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"{MODEL_FILE}: {data['documents']} abstracts, {len(data['idf'])} terms, from {', '.join(used)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

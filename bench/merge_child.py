"""Upsert ``n_new`` records into an existing corpus folder; used by the merge benchmark in a fresh process."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pipeline import corpus
from pipeline.schema import Record

if __name__ == "__main__":
    out_dir, n_new = Path(sys.argv[1]), int(sys.argv[2])
    template = json.loads((out_dir / "corpus.jsonl").open().readline())
    # Half the new records replace existing ids, half are new ids: both merge paths are exercised.
    records = [
        Record.model_validate({**template, "id": f"c{i * 97:08d}" if i % 2 else f"n{i:08d}"}) for i in range(n_new)
    ]
    started = time.perf_counter()
    report = corpus.merge(out_dir, records)
    print(json.dumps({"seconds": time.perf_counter() - started, "total": report.total}))

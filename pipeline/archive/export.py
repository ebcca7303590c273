"""``summarize export OUT_DIR --format csv|jsonl|parquet``: the full table of a folder's corpus (single or
partitioned), streamed in id order, on demand; the published files hold only the digest and the periods.

Parquet only when pyarrow is importable (it comes with ``.[ray]``): the records go in batches of
`BATCH` rows, so memory stays flat.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

from pipeline.archive.store import has_corpus, read_lines
from pipeline.corpus.lines import MergeReport
from pipeline.errors import InputError, OutputError
from pipeline.files import temp_beside
from pipeline.table import _csv_cell, to_row

FORMATS = ("csv", "jsonl", "parquet")
COLUMNS = ("id", "title", "url", "published", "problem", "method", "key_result", "code", "tldr")
BATCH = 10_000


def _rows(folder: Path) -> Iterator[tuple[dict[str, Any], str]]:
    for line in read_lines(folder, MergeReport()):
        yield (line.obj if line.obj is not None else orjson.loads(line.text)), line.text


def _values(record: dict[str, Any]) -> list[str]:
    r = to_row(record)
    values = (r.id, r.title, r.url or "", str(record.get("published") or ""), r.problem, r.method, r.key_result)
    return [" ".join(str(v).split()) for v in (*values, r.code or "", str(record.get("tldr", "")))]


@contextmanager
def _target(out: Path | None, binary: bool) -> Iterator[IO[Any]]:
    """``out`` written beside itself and renamed on success (a failure leaves no half file), or stdout."""
    if out is None:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    tmp, fh = temp_beside(out, "wb" if binary else "w")
    try:
        with fh:
            yield fh
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export(folder: Path, fmt: str, out: Path | None = None) -> int:
    """Writes every record of ``folder``'s corpus as ``fmt`` to ``out`` (stdout when None); returns the count."""
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if not has_corpus(folder):
        raise InputError(f"no corpus.jsonl or corpus/ partitions in {folder}; run `summarize run` first")
    try:
        if fmt == "parquet":
            return _parquet(folder, out)
        count = 0
        with _target(out, binary=False) as fh:
            writer = csv.writer(fh, lineterminator="\n") if fmt == "csv" else None
            if writer is not None:
                writer.writerow(COLUMNS)
            for record, text in _rows(folder):
                count += 1
                if writer is not None:
                    writer.writerow([_csv_cell(value) for value in _values(record)])
                else:
                    fh.write(text + "\n")
        return count
    except OSError as exc:
        raise OutputError(f"cannot write {out or 'stdout'}: {exc.strerror or exc}") from exc


def _parquet(folder: Path, out: Path | None) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError('--format parquet needs pyarrow (pip install -e ".[ray]"); csv and jsonl do not') from exc
    if out is None:
        raise InputError("--format parquet writes a file: give --out FILE")
    schema = pa.schema([(name, pa.string()) for name in COLUMNS] + [("record", pa.string())])
    count = 0
    with _target(out, binary=True) as fh:
        writer = pq.ParquetWriter(fh, schema, compression="zstd")
        batch: list[list[str]] = []

        def flush() -> None:
            if batch:
                columns = list(zip(*batch, strict=True))
                writer.write_table(pa.table(dict(zip(schema.names, columns, strict=True)), schema=schema))
                batch.clear()

        for record, text in _rows(folder):
            count += 1
            batch.append([*_values(record), text])
            if len(batch) >= BATCH:
                flush()
        flush()
        writer.close()
    return count

"""Paper sources: the Hugging Face listing text, JSONL and CSV lists (files or stdin).

Each reader yields `Paper` objects and, for input it cannot use, `InputError` values naming the file and
line, so one bad line never stops the rest. Remote sources (HF daily papers, arXiv) live in `remote`. A paper's id
and the `Paper` built from each item's fields come from `identity`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

import orjson

from pipeline.errors import InputError
from pipeline.files import display_path, open_regular
from pipeline.sources.identity import Item, make_paper
from pipeline.sources.jsonpos import TOO_DEEP, JsonCursor
from pipeline.values import MAX_META_DEPTH

FILE_FORMATS = ("listing", "jsonl", "json", "csv")
_EXTENSIONS = {
    ".txt": "listing",
    ".md": "listing",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".json": "json",
}

# Lines of the Hugging Face papers page that precede the first paper when a person copies it.
_HEADER_LINES = re.compile(
    r"^(new|subscribe|get trending papers in your email inbox!?|by\s*ak and the research community"
    r"|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2}(, \d{4})?|daily papers|trending)$",
    re.IGNORECASE,
)

Source = bytes | IO[bytes]  # a whole input, or an open file read line by line (memory stays flat)
Make = Callable[..., Any]  # (fields, *, source, path, line) -> one item or its InputError


MAX_LINE_BYTES = 32 * 2**20  # one input line (a 2M-character abstract, JSON-escaped, fits)
MAX_WHOLE_BYTES = 1 << 30  # a CSV or JSON-array input, which is read whole (JSONL and listings are streamed)


def _stream_lines(fh: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """Lines of an open file read at most ``limit`` bytes at a time: an over-long line (a file with no newline,
    such as a device) is skipped in bounded memory and comes as None."""
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        if len(raw) > limit and not raw.endswith(b"\n"):
            while True:
                more = fh.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield None
            continue
        yield raw.rstrip(b"\r\n")


def _raw_lines(data: Source, limit: int | None = None) -> Iterator[bytes | None]:
    """The input's lines without their ends (and without a UTF-8 byte-order mark on the first); None for a line
    over ``limit`` bytes (`MAX_LINE_BYTES`)."""
    limit = limit or MAX_LINE_BYTES
    lines: Iterable[bytes | None] = (
        (line if len(line) <= limit else None for line in data.splitlines())
        if isinstance(data, bytes)
        else _stream_lines(data, limit)
    )
    first = True
    for raw in lines:
        if first and raw is not None:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        first = False
        yield raw


def _decode_lines(data: Source, path: str) -> Iterator[tuple[int, str | None, InputError | None]]:
    """Numbered lines; a line that is not UTF-8 or holds NUL bytes comes with its error instead."""
    for number, raw in enumerate(_raw_lines(data), start=1):
        if raw is None:
            yield number, None, InputError(f"line is over {MAX_LINE_BYTES:,} bytes; refused", path=path, line=number)
            continue
        if b"\x00" in raw:
            yield number, None, InputError("line contains NUL bytes", path=path, line=number)
            continue
        try:
            yield number, raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            yield number, None, InputError(f"not UTF-8 (byte {exc.start + 1})", path=path, line=number)


def read_listing(data: Source, path: str) -> Iterator[Item]:
    """Papers of a Hugging Face trending-papers page as copied: header lines, then title / abstract."""
    blocks: list[tuple[int, list[str], InputError | None]] = []
    current: list[str] = []
    start, error = 0, None
    for number, text, problem in _decode_lines(data, path):
        if text is not None and not text.strip():
            if current or error:
                blocks.append((start, current, error))
            current, error = [], None
            continue
        if not current and error is None:
            start = number
        error = error or problem
        if text is not None:
            current.append(text.strip())
    if current or error:
        blocks.append((start, current, error))

    in_header = True
    pending: tuple[int, str, InputError | None] | None = None
    count = 0
    for number, lines, problem in blocks:
        joined = " ".join(lines)
        if in_header and len(lines) == 1 and _HEADER_LINES.match(joined):
            continue
        in_header = False
        looks_like_title = len(lines) == 1 and len(joined) <= 300 and not joined.endswith(".")
        if pending is None:
            if not looks_like_title:
                yield InputError("abstract without a title line before it", path=path, line=number)
                continue
            pending = (number, joined, problem)
            continue
        title_line, title, title_problem = pending
        if looks_like_title and len(joined) < 120:
            yield InputError(f"no abstract after title {title[:60]!r}", path=path, line=title_line, title=title)
            pending = (number, joined, problem)
            continue
        pending = None
        if title_problem or problem:
            yield title_problem or problem  # type: ignore[misc]
            continue
        count += 1
        yield make_paper({"title": title, "abstract": joined}, source=path, path=path, line=title_line)
    if pending is not None:
        yield InputError(f"no abstract after title {pending[1][:60]!r}", path=path, line=pending[0], title=pending[1])
    if count == 0:
        yield InputError("no papers found in this listing", path=path)


def read_jsonl(data: Source, path: str, *, make: Make = make_paper) -> Iterator[Item]:
    """One JSON object per line: title and abstract required; id, url, authors, published optional.
    ``make`` builds each item from its fields (the library builds its entries here)."""
    for number, text, problem in _decode_lines(data, path):
        if problem:
            yield problem
            continue
        assert text is not None
        if not text.strip():
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield InputError(f"malformed JSON ({exc.msg} at column {exc.colno})", path=path, line=number)
            continue
        if not isinstance(obj, dict):
            yield InputError("expected a JSON object", path=path, line=number)
            continue
        yield make(obj, source=path, path=path, line=number)


def read_csv(
    data: Source, path: str, *, make: Make = make_paper, required: tuple[str, ...] = ("title", "abstract")
) -> Iterator[Item]:
    """A CSV with a header row naming at least the ``required`` columns; ``make`` builds each row's item."""
    if not isinstance(data, bytes):
        data = data.read(MAX_WHOLE_BYTES + 1)
    if len(data) > MAX_WHOLE_BYTES:
        yield InputError(f"a CSV input over {MAX_WHOLE_BYTES >> 20} MB; split it, or use JSONL (streamed)", path=path)
        return
    try:
        text = data.lstrip(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        yield InputError(f"not UTF-8 (byte {exc.start + 1} of the file)", path=path, line=line)
        return
    if "\x00" in text:
        yield InputError("file contains NUL bytes", path=path, line=text[: text.index("\x00")].count("\n") + 1)
        return
    # The default 128 KB field limit would crash on long abstracts that JSONL accepts; the run's
    # max_abstract_chars check refuses oversized papers by name instead.
    csv.field_size_limit(max(len(text), 131072))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in required if c not in columns]
    if missing:
        yield InputError(f"missing column(s) {', '.join(missing)} in the header", path=path, line=1)
        return
    reader.fieldnames = columns
    row_start = 2
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield InputError(f"malformed CSV ({exc})", path=path, line=reader.line_num)
            return
        fields = {k: (v or "").strip() for k, v in row.items() if k}
        if any(v for v in fields.values()):
            yield make(fields, source=path, path=path, line=row_start)
        row_start = reader.line_num + 1


def read_json(data: Source, path: str, *, make: Make = make_paper) -> Iterator[Item]:
    """A JSON array of paper objects (``papers.json``), each on the line it starts on; a JSON file of another shape
    is refused, saying so. ``make`` builds each item from its fields."""
    if not isinstance(data, bytes):
        data = data.read(MAX_WHOLE_BYTES + 1)
    if len(data) > MAX_WHOLE_BYTES:
        yield InputError(f"a .json input over {MAX_WHOLE_BYTES >> 20} MB; use JSONL (streamed)", path=path)
        return
    data = data.lstrip(b"\xef\xbb\xbf")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if not (exc.msg.startswith("depth limit") and data.lstrip()[:1] == b"["):
            yield InputError(f"malformed JSON ({exc.msg}, line {exc.lineno})", path=path, line=exc.lineno)
            return
        value = []  # an item nested past orjson's 1024 levels: read item by item, only that one refused
    if not isinstance(value, list):
        kind = type(value).__name__
        yield InputError(f"a .json input must be an array of paper objects, not a {kind} (or use JSONL)", path=path)
        return
    del value  # read again item by item, for the line each starts on
    cursor = JsonCursor(data.decode("utf-8", "replace"))
    try:
        for line, obj in cursor.items(cursor.skip(0)):
            if obj is TOO_DEEP:
                yield InputError(f"item nested deeper than {MAX_META_DEPTH} levels", path=path, line=line)
            elif not isinstance(obj, dict):
                yield InputError("expected a JSON object", path=path, line=line)
            else:
                yield make(obj, source=path, path=path, line=line)
    except json.JSONDecodeError as exc:  # only when orjson could not check it whole
        yield InputError(f"malformed JSON ({exc.msg}, line {exc.lineno})", path=path, line=exc.lineno)


_READERS = {"listing": read_listing, "jsonl": read_jsonl, "json": read_json, "csv": read_csv}


def detect_format(name: str, head: bytes) -> str:
    """The format of an input: by its file extension, else by its first non-blank byte (``{`` JSONL, ``[`` JSON)."""
    suffix = Path(name).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "jsonl" if head == b"{" else "json" if head == b"[" else "listing"


class _Prefixed(io.RawIOBase):
    """``head`` (bytes already read to detect the format), then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head = head
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        read = getattr(self.stream, "read1", self.stream.read)
        chunk = read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _stdin() -> tuple[BinaryIO, bytes]:
    """stdin as a stream, and its first bytes (at least one that is not blank, when there is one)."""
    stream = sys.stdin.buffer
    read = getattr(stream, "read1", stream.read)
    head = b""
    while len(head) < 4096 and not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        chunk = read(4096)
        if not chunk:
            break
        head += chunk
    return io.BufferedReader(_Prefixed(head, stream), 1 << 16), head  # type: ignore[return-value]


def check_exist(inputs: Iterable[str]) -> None:
    """Every named input is there (``-`` is stdin): a name that is not is a typo, refused before any work."""
    missing = [display_path(name) for name in inputs if name != "-" and not os.path.lexists(name)]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"no such file{more}; check the name", path=missing[0])


def read_inputs(inputs: Iterable[str], fmt: str | None = None) -> Iterator[Item]:
    """Papers of every input in order; ``-`` reads stdin. A missing file is an error for that input only."""
    for name in inputs:
        if name == "-":  # streamed like a file: memory stays flat however much is piped in
            data, head = _stdin()
            kind = fmt or detect_format("", head)
            if kind not in _READERS:
                raise InputError(f"unknown format {kind!r}; choose one of {', '.join(FILE_FORMATS)}", path="stdin")
            yield from _READERS[kind](data, "stdin")
            continue
        opened, name = name, display_path(name)  # a name that is not UTF-8 is opened as given, shown escaped
        try:
            handle = open_regular(opened)  # never a device (/dev/zero never ends), a FIFO or a folder
        except OSError as exc:
            yield InputError(f"cannot read: {exc.strerror}", path=name)
            continue
        with handle:
            try:
                kind = fmt or detect_format(name, handle.peek(4096)[:4096] if hasattr(handle, "peek") else b"")
            except OSError as exc:
                yield InputError(f"cannot read: {exc.strerror}", path=name)
                continue
            if kind not in _READERS:
                raise InputError(f"unknown format {kind!r}; choose one of {', '.join(FILE_FORMATS)}", path=name)
            try:
                yield from _READERS[kind](handle, name)
            except OSError as exc:  # a folder given as an input, a read error half-way
                yield InputError(f"cannot read: {exc.strerror or exc}", path=name)

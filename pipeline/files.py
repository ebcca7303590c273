"""Output files: written beside their final name, renamed into place, with the permissions the user's umask gives.

`tempfile.mkstemp` creates files readable by their owner only (0600); an output renamed from it would stay that
way, so a web server could not read the page and a run would narrow an existing corpus's permissions.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Any

_STALE_PATTERNS = (
    ".corpus.*.tmp",
    ".comparison.*.tmp",
    ".feed.xml.*.tmp",
    ".run.json.*.tmp",
    ".failures.jsonl.*.tmp",
    ".spool-*.tmp",
    ".delivered.json.*.tmp",
    ".digest.*.tmp",
)


def display_path(name: str | os.PathLike[str]) -> str:
    """A path as text every writer can carry: bytes that are not UTF-8 (Python holds them as lone surrogates)
    written as ``\\xff`` escapes. Open the original; record and print this."""
    text = os.fspath(name)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def user_mode() -> int:
    """The mode a plain ``open(..., 'w')`` would give a new file: 0666 less the umask."""
    return 0o666 & ~_umask()


def temp_beside(path: Path, mode: str = "w") -> tuple[Path, IO]:
    """A new temporary file in ``path``'s folder, opened for writing, with the user's normal permissions."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, user_mode())
    if "b" in mode:
        return Path(tmp), os.fdopen(fd, mode)
    return Path(tmp), os.fdopen(fd, mode, encoding="utf-8", newline="")


def write_text_atomic(path: Path, text: str) -> None:
    """``text`` as ``path``, whole or not at all: written beside it and renamed over it, so a symbolic link planted
    at ``path`` is replaced, never followed. A lone surrogate (a file name that is not UTF-8) is written as its JSON
    escape (``\\udcff``), never a UnicodeEncodeError half-way through."""
    write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"))


def write_bytes_atomic(path: Path, data: bytes, *, keep: bytes = b"") -> None:
    """``keep`` then ``data`` as ``path``, flushed to disk, renamed into place."""
    tmp, fh = temp_beside(path, "wb")
    try:
        with fh:
            fh.write(keep)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def append_atomic(path: Path, text: str, *, limit: int = 1 << 30) -> None:
    """``path`` with ``text`` added at its end, written whole beside it and renamed into place (an append that
    fails leaves the old file as it was). An existing ``path`` that is a symbolic link or not a regular file is
    not ours: it is replaced, and what it points to is never read or written."""
    keep = b""
    try:
        with open_regular(path, follow=False) as fh:
            keep = fh.read(limit + 1)
    except FileNotFoundError:
        pass
    except OSError:  # a link or a device planted here: not read, replaced
        keep = b""
    if len(keep) > limit:
        raise OSError(errno.EFBIG, f"{path.name} is over {limit >> 20} MB; move it aside")
    if keep and not keep.endswith(b"\n"):
        keep += b"\n"
    write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"), keep=keep)


def read_regular(path: Path | str, *, limit: int, follow: bool = True) -> bytes:
    """The bytes of a regular file (see `open_regular`), refused past ``limit`` bytes (an OSError: EFBIG)."""
    with open_regular(path, follow=follow) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"is over {limit:,} bytes", str(path))
    return data


class NotRegularFile(OSError):
    """A path where a regular file is expected names a device, pipe, folder or (when links are not followed) a
    symbolic link."""


def open_regular(path: Path | str, *, follow: bool = True) -> IO[bytes]:
    """``path`` opened for reading in binary, only when it is a regular file: never a device (``/dev/zero`` never
    ends), a FIFO (a read never returns) or a folder; with ``follow=False``, never through a symbolic link."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow and exc.errno == errno.ELOOP:
            raise NotRegularFile(errno.ELOOP, "is a symbolic link (not followed)", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise NotRegularFile(errno.EINVAL, f"is {kind}, not a regular file", str(path))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def sweep_stale(folder: Path) -> int:
    """Remove temporary files a killed run left behind (the caller holds the folder's lock)."""
    removed = 0
    for pattern in _STALE_PATTERNS:
        for stale in folder.glob(pattern):
            stale.unlink(missing_ok=True)
            removed += 1
    return removed


def read_state(path: Path, max_bytes: int) -> bytes | None:
    """A state file beside the corpus, read without following a link and at most ``max_bytes`` long; None when it
    does not exist. A link, a non-file or a larger file is an OSError naming why (the caller says which file)."""
    try:
        return read_regular(path, limit=max_bytes, follow=False)
    except FileNotFoundError:
        return None


MAX_STATE_DEPTH = 32  # a manifest, an index or a run report is a few levels deep


class StateError(ValueError):
    """A state file that cannot be used as it is (not JSON, nested too deep, of the wrong types): says why. The
    caller's answer is to rebuild it from what is on disk, or to set it aside, never a traceback."""


def read_json_state(path: Path, max_bytes: int, model: Any = None) -> Any:
    """The one reader of the JSON state files beside a corpus (the partitions' manifest, the archive index, a
    shard's run.json): never through a link, at most ``max_bytes``, nested at most `MAX_STATE_DEPTH` levels, and,
    given a pydantic ``model``, of its types (returned as the validated model). None when the file does not exist;
    a `StateError` naming the file and why for anything else."""
    import orjson
    import pydantic

    from pipeline.values import json_depth

    try:
        data = read_state(path, max_bytes)
        if data is None:
            return None
        value = orjson.loads(data)  # iterative up to 1024 levels, an error past them (never a RecursionError)
    except (OSError, ValueError) as exc:
        raise StateError(f"{path}: unreadable ({exc})") from None
    if json_depth(value, MAX_STATE_DEPTH) > MAX_STATE_DEPTH:
        raise StateError(f"{path}: nested deeper than {MAX_STATE_DEPTH} levels")
    if model is None:
        return value
    try:
        return model.model_validate(value)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "the file"
        raise StateError(f"{path}: {where}: {first.get('msg', 'invalid')}") from None

"""Output files: written beside their final name, renamed into place, with the permissions the user's umask gives.

`tempfile.mkstemp` creates files readable by their owner only (0600); an output renamed from it would stay that
way, so a web server could not read the page and a run would narrow an existing corpus's permissions.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

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
    tmp, fh = temp_beside(path)
    try:
        with fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
    import errno
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "is a symbolic link; state files are never read through a link") from None
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "is not a regular file")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"is larger than {max_bytes:,} bytes")
    return data

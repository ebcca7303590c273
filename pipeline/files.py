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

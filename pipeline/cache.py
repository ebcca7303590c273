"""The summary cache: diskcache holding JSON text only.

diskcache pickles non-primitive values by default, and unpickling a row is code execution
(SEE: CVE-2025-69872). `JSONTextDisk` stores nothing but strings and refuses to read a pickled row, so a
cache folder someone else wrote can never run code here. A row that is not valid JSON is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import diskcache
import orjson
from diskcache.core import MODE_RAW, MODE_TEXT, UNKNOWN

from pipeline.schema import SCHEMA_VERSION


class UnsafeCacheRow(Exception):
    """A cache row that is not JSON text (a pickle, bytes, a number): never deserialised."""


class JSONTextDisk(diskcache.Disk):
    """A diskcache Disk that stores and returns ``str`` only; pickled rows are refused, not loaded."""

    def put(self, key: Any) -> tuple[Any, bool]:
        if type(key) is not str:
            raise TypeError("cache keys are strings")
        return super().put(key)

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:
            raise UnsafeCacheRow("pickled cache key refused")
        return super().get(key, raw)

    def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> tuple[int, int, str | None, Any]:
        if type(value) is not str:
            raise TypeError("the cache stores JSON text only")
        return super().store(value, read, key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode not in (MODE_RAW, MODE_TEXT):
            raise UnsafeCacheRow(f"cache row of mode {mode} refused (only JSON text is read)")
        result = super().fetch(mode, filename, value, read)
        if type(result) is not str:
            raise UnsafeCacheRow("cache row is not text")
        return result


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: equal values give equal text, hence equal hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def cache_key(*, text: str, engine: str, model: str, params: dict[str, Any], prompt_hash: str) -> str:
    """The key of one summary: everything that changes the output, and nothing else.

    The canonical JSON of the settings, then the text itself (hashing the text raw is cheaper than escaping
    it into JSON, and just as unambiguous after the separator).
    """
    settings = canonical_json(
        {
            "engine": engine,
            "model": model,
            "params": params,
            "prompt_hash": prompt_hash,
            "schema_version": SCHEMA_VERSION,
        }
    )
    return hashlib.sha256(f"{settings}\x00{text}".encode()).hexdigest()


class SummaryCache:
    """Summaries by key. Misses, corrupted rows and refused rows all read as None; writes are JSON."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._cache = diskcache.Cache(
            str(directory), disk=JSONTextDisk, size_limit=2**35, eviction_policy="least-recently-stored"
        )
        self.corrupted = 0

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            text = self._cache.get(key)
        except (UnsafeCacheRow, OSError):
            text = None
            self._discard(key)
        if text is None:
            return None
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            self._discard(key)
            return None
        return value

    def _discard(self, key: str) -> None:
        self.corrupted += 1
        with contextlib.suppress(Exception):  # a row we cannot even delete is still just a miss
            self._cache.delete(key)

    def set(self, key: str, value: dict[str, Any]) -> None:
        self._cache.set(key, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many writes into one SQLite transaction (much faster than one commit each)."""
        with self._cache.transact():
            yield

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        self._cache.close()

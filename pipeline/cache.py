"""The summary cache: diskcache holding JSON text only.

diskcache pickles non-primitive values by default, and unpickling a row is code execution
(SEE: CVE-2025-69872). `JSONTextDisk` stores nothing but strings and refuses to read a pickled row, so a
cache folder someone else wrote can never run code here. A row that is not valid JSON is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import diskcache
import orjson
from diskcache.core import MODE_RAW, UNKNOWN

from pipeline.errors import CacheBusyError, ConfigError
from pipeline.schema import SCHEMA_VERSION
from pipeline.secrets import redact

BUSY_WAIT_S = 60.0  # how long a busy cache (another writer holds its lock) is waited for before a clear error


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, diskcache.Timeout) or "locked" in str(exc).lower() or "busy" in str(exc).lower()


def _corrupt(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "no such table" in text or "corrupt" in text


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
        # Every value this cache writes lives in the database row itself (min_file_size is effectively
        # infinite), so a row that points at a file was not written by us: it is never opened.
        if mode != MODE_RAW or filename is not None:
            raise UnsafeCacheRow(f"cache row of mode {mode} naming a file refused (only inline JSON text is read)")
        result = super().fetch(mode, filename, value, read)
        if type(result) is not str:
            raise UnsafeCacheRow("cache row is not text")
        return result

    def remove(self, file_path: str) -> None:
        """Never delete a file a cache row names: this cache writes none, so any such name is forged."""
        return None


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
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise ConfigError(
                f"cache folder {directory} is a file; set cache_dir (SUMMARIZE_CACHE_DIR) to a folder"
            ) from exc
        except OSError as exc:
            raise ConfigError(
                f"cannot create the cache folder {directory} ({exc.strerror}); set cache_dir (SUMMARIZE_CACHE_DIR)"
            ) from exc
        if not directory.is_dir():
            raise ConfigError(f"cache folder {directory} is not a folder; set cache_dir (SUMMARIZE_CACHE_DIR)")
        self.directory = directory
        self.corrupted = 0
        self.rebuilt: str | None = None  # where a broken database was moved aside, for the run report
        try:
            self._cache = self._open()
        except (sqlite3.OperationalError, diskcache.Timeout) as exc:
            # Busy is not corrupt: another writer holds the database's lock (past the wait), or SQLite cannot open
            # a database here at all. The cache is left exactly as it is.
            if _busy(exc):
                raise CacheBusyError(
                    f"the cache in {directory} is busy: another process has held its lock for over {BUSY_WAIT_S:g} s; "
                    "wait for it to finish and run again (the cache was left alone), or set cache_dir "
                    "(SUMMARIZE_CACHE_DIR) to another folder"
                ) from exc
            if not _corrupt(exc):
                raise ConfigError(
                    f"cannot open a cache database in {directory} ({exc}); set cache_dir (SUMMARIZE_CACHE_DIR) to a "
                    "writable folder"
                ) from exc
            self._cache = self._rebuild(directory)
        except sqlite3.DatabaseError:
            self._cache = self._rebuild(directory)
        except OSError as exc:
            raise ConfigError(
                f"cannot open the cache in {directory} ({exc}); "
                "set cache_dir (SUMMARIZE_CACHE_DIR) to a writable folder"
            ) from exc

    def _rebuild(self, directory: Path) -> diskcache.Cache:
        """A database that is not one (random bytes, a torn file): moved aside, and a new one started."""
        aside = directory / f"cache.db.broken-{int(time.time())}"
        with contextlib.suppress(OSError):
            (directory / "cache.db").rename(aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(OSError):
                (directory / f"cache.db{suffix}").unlink()
        self.rebuilt = str(aside)
        try:
            return self._open()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise ConfigError(
                f"cannot open a cache database in {directory} ({exc}); set cache_dir (SUMMARIZE_CACHE_DIR) to a "
                "writable folder"
            ) from exc

    def _open(self) -> diskcache.Cache:
        # Can this process take the write lock within BUSY_WAIT_S? (diskcache's own set-up retries a locked
        # database for a fixed minute, then reports it like a broken one.)
        probe = sqlite3.connect(str(self.directory / "cache.db"), timeout=BUSY_WAIT_S, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        finally:
            probe.close()
        cache = diskcache.Cache(
            str(self.directory),
            timeout=BUSY_WAIT_S,
            disk=JSONTextDisk,
            size_limit=2**35,
            eviction_policy="least-recently-stored",
            disk_min_file_size=2**62,
        )
        len(cache)  # touches the table: a database that is not one fails here, not mid-run
        return cache

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            text = self._cache.get(key)
        except (sqlite3.OperationalError, diskcache.Timeout) as exc:
            if _busy(exc):  # busy past the wait: a clear error, nothing discarded
                raise CacheBusyError(f"the cache in {self.directory} is busy past {BUSY_WAIT_S:g} s: {exc}") from exc
            text = None
            self._discard(key)
        except (UnsafeCacheRow, OSError, sqlite3.DatabaseError):
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
        # Secrets never reach the cache folder (a key an LLM echoed, a URL's user:password): masked on the way in.
        self._cache.set(key, redact(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many writes into one SQLite transaction (much faster than one commit each). A database another
        process keeps locked past `BUSY_WAIT_S` stops the run with a clear error; nothing is discarded."""
        try:
            with self._cache.transact():
                yield
        except (sqlite3.OperationalError, diskcache.Timeout) as exc:
            if not _busy(exc):
                raise
            raise CacheBusyError(
                f"the cache in {self.directory} stayed busy for over {BUSY_WAIT_S:g} s (another process holds its "
                "lock); the summaries written so far are kept: run again to resume"
            ) from exc

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        self._cache.close()

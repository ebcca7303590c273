"""Bounded HTTP for the remote sources and enrichment: every GET capped in decoded bytes and in total time,
polite (a User-Agent naming the tool, a minimum interval between requests) and retried with backoff on 429/5xx and
timeouts, honouring Retry-After. Every failure is a `FetchError` naming the URL."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from pipeline import __version__
from pipeline.errors import FetchError
from pipeline.values import MAX_META_DEPTH, json_depth

USER_AGENT = f"summarize/{__version__} (research-paper digest; python-httpx)"
_RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_RESPONSE_BYTES = 64 * 2**20


class Http:
    """GET with a timeout, a User-Agent naming the tool, a minimum interval between requests, and retries
    with backoff on 429/5xx/timeouts that honour Retry-After."""

    def __init__(
        self,
        *,
        interval_s: float = 0.0,
        retries: int = 4,
        timeout_s: float = 30.0,
        backoff_s: float = 1.0,
        max_bytes: int = MAX_RESPONSE_BYTES,
        deadline_s: float = 120.0,
    ) -> None:
        self.interval_s = interval_s
        self.max_bytes = max_bytes
        self.deadline_s = deadline_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.client = httpx.Client(timeout=timeout_s, headers={"User-Agent": USER_AGENT}, follow_redirects=True)
        self._last = 0.0
        self.requests = 0

    def get(self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Fetched:
        """One bounded GET: at most `max_bytes` of decoded body (a gzip bomb stops there) and `deadline_s` in
        all (a server dripping one byte at a time stops there), each failure an error naming the URL. ``headers``
        go with this request only (a key, a version to check); a status below 400 (304 too) is returned."""
        for attempt in range(self.retries + 1):
            wait = self._last + self.interval_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
            self.requests += 1
            try:
                response = self._bounded(url, params, headers)
            except httpx.TimeoutException as exc:
                if attempt < self.retries:
                    time.sleep(self._backoff(attempt))
                    continue
                raise FetchError(f"timed out fetching {url} after {attempt + 1} attempts", url=url) from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot fetch {url}: {exc}", url=url) from exc
            if response.status_code in _RETRY_STATUS and attempt < self.retries:
                time.sleep(_retry_after(response.headers.get("retry-after")) or self._backoff(attempt))
                continue
            if response.status_code >= 400:
                raise FetchError(
                    f"fetching {response.url} failed: HTTP {response.status_code}",
                    url=response.url,
                    status=response.status_code,
                )
            return response
        raise AssertionError("unreachable")

    def _bounded(self, url: str, params: dict[str, Any] | None, headers: dict[str, str] | None = None) -> Fetched:
        deadline = time.monotonic() + self.deadline_s
        with self.client.stream("GET", url, params=params, headers=headers) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError(
                        f"{response.url}: response larger than {self.max_bytes // 2**20} MB (decoded); refused",
                        url=str(response.url),
                    )
                if time.monotonic() > deadline:
                    raise FetchError(
                        f"{response.url}: response not complete after {self.deadline_s:.0f} s; refused",
                        url=str(response.url),
                    )
                chunks.append(chunk)
            return Fetched(str(response.url), response.status_code, dict(response.headers), b"".join(chunks))

    def _backoff(self, attempt: int) -> float:
        return min(60.0, self.backoff_s * 2**attempt) * (0.5 + random.random())

    def close(self) -> None:
        self.client.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date), capped; None when unreadable."""
    if not value:
        return None
    try:
        return min(120.0, max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None  # "soon" and friends: fall back to our own backoff
    if when.tzinfo is None:  # "-0000" means UTC with no stated zone
        when = when.replace(tzinfo=UTC)
    return min(120.0, max(0.0, (when - datetime.now(UTC)).total_seconds()))


@dataclass
class Fetched:
    """A response body read within bounds."""

    url: str
    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON, nested no deeper than `MAX_JSON_DEPTH` (a FetchError otherwise, like bad JSON)."""
        try:
            value = orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            kind = "an empty body" if not self.content.strip() else f"not JSON ({exc.msg})"
            raise FetchError(f"{self.url}: the response is {kind}", url=self.url, status=self.status_code) from exc
        if json_depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise FetchError(
                f"{self.url}: the response is nested deeper than {MAX_JSON_DEPTH} levels; refused",
                url=self.url,
                status=self.status_code,
            )
        return value


MAX_JSON_DEPTH = 32  # a whole response (a daily-papers page is 5 deep)
MAX_META_BYTES = 64 * 1024  # one metadata value kept from a response


def metadata_value(value: Any) -> Any:
    """``value`` when it may go into a paper's metadata as input files' metadata may (at most `MAX_META_DEPTH`
    levels below the metadata object, `MAX_META_BYTES` as JSON); None when it may not (it is left out)."""
    if json_depth(value, MAX_META_DEPTH) >= MAX_META_DEPTH:
        return None
    try:
        size = len(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError):
        return None
    return value if size <= MAX_META_BYTES else None


def http_for(settings: Any, *, interval_s: float = 0.0) -> Http:
    """An `Http` bounded by the run's settings (timeout, deadline, body size)."""
    return Http(
        interval_s=interval_s,
        timeout_s=settings.fetch_timeout_s,
        deadline_s=settings.fetch_deadline_s,
        max_bytes=settings.fetch_max_mb * 2**20,
    )

"""How a remote fetch went, shared by every remote source: `Fetch` (ok, empty, stale or failed, with counts), the
time a source's date means, and the few rules each reader uses to turn one item into a paper or its error."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from pipeline.schema import Paper
from pipeline.values import bounded_date


@dataclass
class Fetch:
    """Papers of one remote query, with how the fetch went: ok, empty (when papers were expected) or stale."""

    source: str
    url: str
    expect_papers: bool = True
    stale_after: timedelta | None = None
    count: int = 0
    newest: datetime | None = None
    requests: int = 0
    error: str | None = None
    truncated: bool = False  # stopped at the page cap

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        if self.count == 0:
            return "empty" if self.expect_papers else "ok"
        if self.stale_after and self.newest and datetime.now(UTC) - self.newest > self.stale_after:
            return "stale"
        return "ok"

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "url": self.url,
            "status": self.status,
            "papers": self.count,
            "newest": self.newest.isoformat() if self.newest else None,
            "requests": self.requests,
            "error": self.error,
            "truncated": self.truncated,
        }


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 or RFC 2822 time (a zone-less one is UTC); None when it is none or out of range."""
    if not value or bounded_date(value) is None:  # year 9999 less a zone would overflow in the staleness check
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def note(fetch: Fetch, paper: Paper) -> Paper:
    """``paper``, counted in ``fetch`` (and its date noted as the newest when it is)."""
    fetch.count += 1
    when = parse_time(paper.published)
    if when and (fetch.newest is None or when > fetch.newest):
        fetch.newest = when
    return paper


def text(value: Any, name: str) -> str:
    """``value`` with its whitespace runs made single spaces; ValueError when it is not text or is empty."""
    if not isinstance(value, str):
        raise ValueError(f"{name} is {'missing' if value is None else type(value).__name__}, not text")
    found = " ".join(value.split())
    if not found:
        raise ValueError(f"{name} is empty")
    return found


def reason(exc: Exception) -> str:
    """A one-line reason: a model's validation errors by field, else the exception's text."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
    return str(exc)


def short(value: Any, limit: int = 300) -> str:
    """``value`` as one line of at most ``limit`` characters when it is text, else empty (a bad item's title)."""
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


ITEM_ERRORS = (AttributeError, TypeError, ValueError, KeyError)  # what one malformed item may raise while read

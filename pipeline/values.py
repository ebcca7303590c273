"""The values a record may hold: a usable id, a representable date, metadata of bounded depth."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

# What a record may hold, checked where it is read (a source, or corpus.jsonl read back): text XML can carry in
# ids, dates every writer can represent (a UTC conversion of year 9999 overflows), metadata of bounded depth.
_NOT_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
MIN_YEAR, MAX_YEAR = 1000, 2999
MAX_META_DEPTH = 20


def check_id(value: str) -> str:
    """``value`` when it is a usable record id; ValueError for an empty one or one holding control characters."""
    if not value or not value.strip():
        raise ValueError("the id is empty")
    found = _NOT_IN_ID.search(value)
    if found:
        raise ValueError(f"the id holds the control character U+{ord(found.group(0)):04X}")
    if len(value) > 2000:
        raise ValueError(f"the id is {len(value):,} characters; the limit is 2,000")
    return value


def bounded_date(value: object) -> str | None:
    """``value`` (ISO 8601, a year, year-month, or an RFC 2822 date) when it names a moment between the years
    `MIN_YEAR` and `MAX_YEAR` in UTC; None otherwise (never an overflow later, in a writer)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    moment: datetime | None = None
    try:
        if re.fullmatch(r"\d{4}(-\d{2})?", text):  # a year, or a year and month
            moment = datetime.strptime(text + ("-01" if len(text) == 7 else "-01-01"), "%Y-%m-%d")
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        import email.utils

        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if moment is None:
        return None
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo else moment
    except (OverflowError, ValueError):
        return None
    return text if MIN_YEAR <= utc.year <= MAX_YEAR else None


RecordId = Annotated[str, AfterValidator(check_id)]
Published = Annotated[str | None, BeforeValidator(bounded_date)]


def json_depth(value: Any, limit: int = MAX_META_DEPTH) -> int:
    """Nesting depth of JSON-like data, counting no further than ``limit + 1`` (no recursion blow-up)."""
    depth, level = 0, [value]
    while level and depth <= limit:
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item)
        if not nxt:
            break
        depth += 1
        level = nxt
    return depth
